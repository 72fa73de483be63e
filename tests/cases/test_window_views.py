"""The comprehensive window (综合窗口) as a clerk uses it: find any department's item, register a
walk-in, collect the materials, then accept (即收即办 completes on the spot), issue the one-time
supplement notice, or refuse — each an in-person visit."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from tests.cases.conftest import ON_THE_SPOT, PDF, PROXY, TIME_LIMITED, form_for
from tongban.accounts.models import User
from tongban.audit.models import AuditRecord
from tongban.cases.models import Case, CaseEvent, CaseMaterial, Notice, Status, Visit
from tongban.organizations.models import Window
from tongban.supervision.models import SupervisionRecord

pytestmark = pytest.mark.django_db

WALK_IN = {"applicant_kind": "natural_person", "applicant_name": "李华",
           "applicant_id_number": "620102199003077770", "applicant_phone": "13893100009"}


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = str(tmp_path)


@pytest.fixture
def clerk(people: dict[str, User], demo_forms: None, client: Client) -> User:
    user = people["clerk"]
    assert user.hall is not None
    Window.objects.create(hall=user.hall, number="3", name="综合受理窗口", is_comprehensive=True)
    client.force_login(user)
    return user


def text(response: Any) -> str:
    page = response.content.decode()
    return re.sub(r"\s+", "", re.sub(r"<[^>]+>", " ", page))


def intake_data(code: str, **extra: str) -> dict[str, str]:
    return {**WALK_IN, **{f"form_{k}": v for k, v in form_for(code).items()},
            "idempotency_key": "k-" + code[-6:], **extra}


def register(client: Client, code: str, **extra: str) -> Case:
    response = client.post(f"/window/items/{code}/", intake_data(code, **extra))
    assert response.status_code == 302, text(response)
    case = Case.objects.get(pk=int(response["Location"].rstrip("/").rsplit("/", 1)[1]))
    assert response["Location"] == f"/window/cases/{case.pk}/"
    return case


def collect(client: Client, case: Case, *, skip: set[str] | None = None) -> None:
    for m in case.item_version.materials.filter(necessity__in=("required", "deferrable")):
        if m.name in (skip or set()):
            continue
        upload = io.BytesIO(PDF)
        upload.name = "scan.pdf"
        response = client.post(f"/window/cases/{case.pk}/materials/",
                               {"material": m.pk, "received": "original", "file": upload})
        assert response.status_code == 302


# --- finding the item and registering the walk-in ----------------------------------------------

def test_clerk_finds_any_departments_item(clerk: User, client: Client) -> None:
    page = text(client.get("/window/", {"q": "养老保险参保"}))
    assert "城乡居民基本养老保险参保登记" in page
    assert "兰州市人力资源和社会保障局" in page  # not the clerk's hall's department
    by_code = client.get("/window/", {"q": ON_THE_SPOT}).content.decode()
    assert f'href="/window/items/{ON_THE_SPOT}/"' in by_code
    assert "企业设立登记" in by_code


def test_intake_form_is_the_items_own_form(clerk: User, client: Client) -> None:
    page = client.get(f"/window/items/{ON_THE_SPOT}/").content.decode()
    for label in ("企业名称", "企业类型", "法定代表人身份证号", "注册资本（万元）", "经营范围"):
        assert f">{label}" in page
    assert 'name="form_company_type"' in page and "<option value=\"有限责任公司\">" in page
    assert 'type="tel"' in page  # phones get the phone keyboard
    assert "即收即办" in text(client.get(f"/window/items/{ON_THE_SPOT}/"))


def test_invalid_id_number_is_named_and_nothing_is_created(clerk: User, client: Client) -> None:
    before = (Case.objects.count(), CaseEvent.objects.count(), AuditRecord.objects.count())
    response = client.post(f"/window/items/{ON_THE_SPOT}/", intake_data(
        ON_THE_SPOT, applicant_id_number="620102199003077771",
        form_legal_representative_id="12345"))
    assert response.status_code == 200
    page = text(response)
    assert "证件号码：公民身份号码末位校验码与前17位不符，请核对号码" in page
    assert "法定代表人身份证号：“法定代表人身份证号”应为18位（现为5位）" in page
    assert (Case.objects.count(), CaseEvent.objects.count(), AuditRecord.objects.count()) == before
    # What the clerk typed is kept for correction.
    assert 'value="李华"' in response.content.decode()


def test_agent_without_authorisation_is_refused(clerk: User, client: Client) -> None:
    response = client.post(f"/window/items/{ON_THE_SPOT}/", intake_data(
        ON_THE_SPOT, by_agent="on", agent_name="王五", agent_id_number="620102199003070018"))
    assert response.status_code == 200
    assert "授权委托说明：代理办理须提供授权委托说明" in text(response)
    assert not Case.objects.exists()


def test_same_form_posted_twice_makes_one_case(clerk: User, client: Client) -> None:
    first = register(client, ON_THE_SPOT)
    second = register(client, ON_THE_SPOT)
    assert first.pk == second.pk and Case.objects.count() == 1


# --- the on-the-spot journey ----------------------------------------------------------------------

def test_on_the_spot_item_is_completed_in_one_visit(clerk: User, client: Client) -> None:
    case = register(client, ON_THE_SPOT)
    assert (case.channel, case.status, case.hall_id) == ("window", Status.DRAFT, clerk.hall_id)
    page = text(client.get(f"/window/cases/{case.pk}/"))
    assert "尚未收取的必要材料：《公司登记（备案）申请书》、公司章程" in page
    assert "6201**********7770" in page and "620102199003077770" not in page
    collect(client, case)
    window = Window.objects.get(hall=clerk.hall, number="3")
    version = Case.objects.get(pk=case.pk).version
    response = client.post(f"/window/cases/{case.pk}/accept/", {"window": window.pk,
                                                                "version": version})
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == Status.DELIVERED and case.visits == 1 and not case.excess_visits
    assert Visit.objects.get(case=case).window == window
    page = text(client.get(f"/window/cases/{case.pk}/", follow=True))
    assert "已办结（办理结果已当场送达）" in page and "办理结果：营业执照" in page
    assert "已到现场1次，承诺最多1次" in page
    kinds = list(case.notices.order_by("issued_at").values_list("kind", flat=True))
    assert kinds == [Notice.Kind.ACCEPTANCE, Notice.Kind.DECISION]
    html = client.get(f"/window/cases/{case.pk}/").content.decode()
    for notice in case.notices.all():
        assert f'href="/cases/{case.number}/notices/{notice.number}/pdf/"' in html
    today = text(client.get("/window/"))
    assert case.number is not None
    assert case.number in today and "已送达" in today


def test_accept_with_missing_material_changes_nothing(clerk: User, client: Client) -> None:
    case = register(client, ON_THE_SPOT)
    collect(client, case, skip={"公司章程"})
    response = client.post(f"/window/cases/{case.pk}/accept/", follow=True)
    assert "材料不齐全，不能受理；请一次性告知补正：公司章程" in text(response)
    case.refresh_from_db()
    assert case.status == Status.DRAFT and case.number is None and case.visits == 0


def test_a_bad_file_is_refused_with_the_materials_name(clerk: User, client: Client) -> None:
    case = register(client, ON_THE_SPOT)
    material = case.item_version.materials.get(name="公司章程")
    upload = io.BytesIO(b"MZ not a document")
    upload.name = "zhangcheng.pdf"
    response = client.post(f"/window/cases/{case.pk}/materials/",
                           {"material": material.pk, "file": upload}, follow=True)
    assert "公司章程：只接受PDF、JPG、PNG或OFD文件" in text(response)
    assert not CaseMaterial.objects.filter(case=case).exists()


# --- supplement and refusal at the window --------------------------------------------------------

def test_one_time_supplement_at_the_window_then_accepted(clerk: User, client: Client) -> None:
    case = register(client, TIME_LIMITED)
    collect(client, case, skip={"营业执照", "告知承诺书"})
    business = case.item_version.materials.get(name="营业执照")
    promise = case.item_version.materials.get(name="告知承诺书")
    response = client.post(f"/window/cases/{case.pk}/supplement/", {
        f"need_{business.pk}": "1", f"reason_{business.pk}": "未提交",
        f"need_{promise.pk}": "1", f"reason_{promise.pk}": "未签字",
        "note": "请带齐后再来"}, follow=True)
    assert "已出具一次性告知书" in text(response)
    case.refresh_from_db()
    assert case.status == Status.SUPPLEMENT and case.number and case.visits == 1
    notice = case.notices.get(kind=Notice.Kind.SUPPLEMENT)
    assert [i["name"] for i in notice.body["items"]] == ["营业执照", "告知承诺书"]
    assert f'/cases/{case.number}/notices/{notice.number}/pdf/' in response.content.decode()

    # The applicant comes back with both: collected, supplied and accepted in one go.
    for m in (business, promise):
        upload = io.BytesIO(PDF)
        upload.name = "b.pdf"
        client.post(f"/window/cases/{case.pk}/materials/", {"material": m.pk, "file": upload})
    response = client.post(f"/window/cases/{case.pk}/accept/", follow=True)
    assert "已受理" in text(response)
    case.refresh_from_db()
    assert case.status == Status.ACCEPTED and case.visits == 2
    assert case.notices.get(kind=Notice.Kind.SUPPLEMENT).resolved_at is not None


def test_supplement_without_a_reason_names_it(clerk: User, client: Client) -> None:
    case = register(client, TIME_LIMITED)
    business = case.item_version.materials.get(name="营业执照")
    response = client.post(f"/window/cases/{case.pk}/supplement/",
                           {f"need_{business.pk}": "1", f"reason_{business.pk}": " "}, follow=True)
    assert "须说明补正原因" in text(response)
    case.refresh_from_db()
    assert case.status == Status.DRAFT and case.number is None and not case.notices.exists()


def test_refusal_at_the_window(clerk: User, client: Client) -> None:
    case = register(client, PROXY)
    response = client.post(f"/window/cases/{case.pk}/refuse/", {"reason": ""}, follow=True)
    assert "须填写理由" in text(response)
    assert Case.objects.get(pk=case.pk).status == Status.DRAFT
    response = client.post(f"/window/cases/{case.pk}/refuse/",
                           {"reason": "申请人已参加职工基本养老保险"}, follow=True)
    page = text(response)
    assert "已出具不予受理通知书" in page and "申请人已参加职工基本养老保险" in page
    case.refresh_from_db()
    assert case.status == Status.REFUSED and case.visits == 1
    assert case.notices.get().kind == Notice.Kind.REFUSAL


# --- who may use the window ----------------------------------------------------------------------

@pytest.mark.parametrize("persona", ["citizen", "officer", "head", "proxy"])
def test_only_clerks_use_the_window(people: dict[str, User], demo_forms: None, client: Client,
                                    persona: str) -> None:
    client.force_login(people[persona])
    assert client.get("/window/").status_code == 403
    assert client.get(f"/window/items/{ON_THE_SPOT}/").status_code == 403
    response = client.post(f"/window/items/{ON_THE_SPOT}/", intake_data(ON_THE_SPOT))
    assert response.status_code == 403
    assert not Case.objects.exists()


def test_anonymous_is_sent_to_login(client: Client) -> None:
    response = client.get("/window/")
    assert response.status_code == 302 and "login" in response["Location"]


def test_a_clerk_of_another_hall_cannot_open_the_case(clerk: User, client: Client,
                                                      people: dict[str, User]) -> None:
    case = register(client, ON_THE_SPOT)
    other = User.objects.create_user(username="clerk2", password="x-pass-12345", role="clerk",
                                     real_name="钱七", hall=people["proxy"].hall)
    client.force_login(other)
    assert client.get(f"/window/cases/{case.pk}/").status_code == 404
    assert client.post(f"/window/cases/{case.pk}/accept/").status_code == 404
    case.refresh_from_db()
    assert case.status == Status.DRAFT


def test_the_clerks_read_of_a_case_page_is_audited(clerk: User, client: Client) -> None:
    case = register(client, TIME_LIMITED)
    assert not AuditRecord.objects.filter(action="case.viewed").exists()
    assert client.get(f"/window/cases/{case.pk}/").status_code == 200
    assert list(AuditRecord.objects.filter(action="case.viewed").values_list(
        "actor_id", "object_id", "detail")) == [
        (clerk.pk, str(case.number or case.pk), {"identifiers_in_full": False})]


def test_a_second_notice_at_the_window_naming_something_new_is_refused_and_kept_on_record(
    clerk: User, client: Client
) -> None:
    case = register(client, TIME_LIMITED)
    collect(client, case, skip={"营业执照"})
    business = case.item_version.materials.get(name="营业执照")
    promise = case.item_version.materials.get(name="告知承诺书")
    client.post(f"/window/cases/{case.pk}/supplement/",
                {f"need_{business.pk}": "1", f"reason_{business.pk}": "未提交"})
    upload = io.BytesIO(PDF)
    upload.name = "b.pdf"
    client.post(f"/window/cases/{case.pk}/materials/", {"material": business.pk, "file": upload})
    case.refresh_from_db()
    visits = case.visits

    # 告知承诺书 was not named in the first notice: refused, and the attempt stays on record
    # although the window's action (notice and visit together) was undone.
    response = client.post(f"/window/cases/{case.pk}/supplement/",
                           {f"need_{promise.pk}": "1", f"reason_{promise.pk}": "须加盖公章"},
                           follow=True)
    assert "一次性告知：“告知承诺书”未在本办件此前的补正告知书中列明" in text(response)
    case.refresh_from_db()
    assert case.notices.filter(kind=Notice.Kind.SUPPLEMENT).count() == 1
    assert case.visits == visits
    [record] = SupervisionRecord.objects.filter(case=case)
    assert record.kind == "supplement_not_one_time"
    assert AuditRecord.objects.filter(action="case.supplement_not_one_time",
                                      object_id=case.number).count() == 1
