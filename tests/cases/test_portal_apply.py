"""Applying online through the portal pages: the generated form, drafts, materials, review and
an idempotent submit (``cases/views/portal.py``)."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from django.http import FileResponse
from django.test import Client

from tests.cases.conftest import PDF, TIME_LIMITED, form_for, item
from tests.conftest import make_user
from tongban.accounts.models import Role, User
from tongban.audit.models import AuditRecord
from tongban.cases import drafts, services
from tongban.cases.models import Case, CaseMaterial, Channel, Status
from tongban.cases.services import ApplicantData
from tongban.core.errors import AccessDenied, RuleViolation

pytestmark = pytest.mark.django_db

ID_CARD = "11620100MB202820XH3000700113001"  # 居民身份证首次申领: window only (depth Ⅱ)
APPLY = f"/apply/{TIME_LIMITED}/"


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = str(tmp_path)


@pytest.fixture
def citizen(people: dict[str, User], demo_forms: None) -> User:
    return people["citizen"]


def login(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def posted(code: str = TIME_LIMITED, **changes: str) -> dict[str, str]:
    data = {f"f_{k}": str(v) for k, v in form_for(code).items()}
    data.update({f"f_{k}": v for k, v in changes.items()})
    return data


def draft_of(user: User) -> Case:
    return services.case_create(actor=user, item=item(TIME_LIMITED), channel=Channel.ONLINE,
                                applicant=ApplicantData(kind="natural_person", name=user.real_name,
                                                        id_number=user.id_number, phone=user.phone),
                                form_data=form_for(TIME_LIMITED))


def text(response: Any) -> str:
    return str(response.content.decode())


# --- the form ------------------------------------------------------------------------------------

def test_the_form_is_generated_from_the_items_definition(citizen: User) -> None:
    page = text(login(citizen).get(APPLY))
    assert "食品经营许可（新办）" in page
    # Typed inputs: a date picker, a phone keypad, a decimal keypad, a select with the options.
    assert 'type="date" name="f_opening_date"' in page
    assert 'type="tel" name="f_contact_phone"' in page
    assert 'name="f_floor_area"' in page and 'inputmode="decimal"' in page
    assert '<option value="热食类食品制售">热食类食品制售</option>' in page
    # Required fields say so; help text is tied to its input.
    assert 'name="f_business_name"' in page and "（必填）" in page
    assert 'aria-describedby="id_f_business_name_helptext"' in page
    assert 'id="id_f_business_name_helptext">与营业执照上的名称一致' in page
    # The applicant comes from the account, shown (ID number masked, as on the account page),
    # not editable; the phone is prefilled.
    assert "张三" in page and '<dd class="code">6201**********7770</dd>' in page
    assert 'name="f_contact_phone" value="13893100001"' in page
    assert 'name="idempotency_key" value="' in page
    assert "我代他人办理（代理人）" in page


def test_bad_input_is_named_next_to_the_field_and_nothing_is_saved(citizen: User) -> None:
    response = login(citizen).post(APPLY, {**posted(business_name="", uscc="91620102MA7123456X",
                                                    floor_area="很大", opening_date="2026-13-01"),
                                           "idempotency_key": "k1"})
    assert response.status_code == 200
    page = text(response)
    assert "“经营者名称”为必填项" in page
    assert "“统一社会信用代码”不是有效的统一社会信用代码（18位，末位校验码须正确）" in page
    assert "“营业面积（平方米）”应为数字" in page
    assert "“计划开业日期”应为有效日期" in page
    assert 'id="id_f_uscc_error"' in page and 'aria-invalid="true"' in page
    # What the applicant typed stays in the form, with the same idempotency key.
    assert 'value="91620102MA7123456X"' in page and 'name="idempotency_key" value="k1"' in page
    assert not Case.objects.exists()


def test_saving_a_draft_twice_with_one_key_makes_one_case(citizen: User) -> None:
    client = login(citizen)
    first = client.post(APPLY, {**posted(), "idempotency_key": "double-click"})
    second = client.post(APPLY, {**posted(), "idempotency_key": "double-click"})
    case = Case.objects.get()
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"] == f"/my/cases/{case.pk}/materials/"
    assert (case.status, case.channel, case.applicant, case.applicant_id_number) == (
        Status.DRAFT, Channel.ONLINE, citizen, "620102199003077770")
    assert case.form_data["business_item"] == "热食类食品制售" and case.form_data["floor_area"] == 85


def test_a_company_applies_as_legal_person_with_its_uscc(people: dict[str, User],
                                                         demo_forms: None) -> None:
    company = make_user("company", Role.ENTERPRISE, real_name="兰州示例餐饮有限公司",
                        uscc="91620102MA7123456T", legal_representative="李华", phone="13912345678")
    client = login(company)
    page = text(client.get(APPLY))
    assert "统一社会信用代码" in page and "91620102MA7123456T" in page and "李华" in page
    assert 'name="f_uscc" value="91620102MA7123456T"' in page  # prefilled from the account
    assert 'name="f_business_name" value="兰州示例餐饮有限公司"' in page
    assert "我代他人办理" not in page  # an agent is a person with an ID number
    client.post(APPLY, {**posted(), "idempotency_key": "c1"})
    case = Case.objects.get()
    assert (case.applicant, case.applicant_kind, case.applicant_name, case.applicant_id_number) == (
        company, "legal_person", "兰州示例餐饮有限公司", "91620102MA7123456T")


def test_a_citizen_applies_for_someone_else_as_agent(citizen: User) -> None:
    client = login(citizen)
    agent_part = {"as_agent": "on", "principal_kind": "natural_person", "principal_name": "李四",
                  "principal_id_number": "620102199003070018", "principal_phone": "13893100002"}
    response = client.post(APPLY, {**posted(), **agent_part, "principal_id_number": "123",
                                   "idempotency_key": "a1"})
    page = text(response)
    assert "公民身份号码应为18位（现为3位）" in page and "代理办理须提供授权委托说明" in page
    assert 'id="id_principal_id_number_error"' in page and 'id="id_authorization_error"' in page
    assert not Case.objects.exists()
    client.post(APPLY, {**posted(), **agent_part, "authorization": "李四委托张三办理食品经营许可",
                        "idempotency_key": "a2"})
    case = Case.objects.get()
    assert (case.applicant, case.agent, case.applicant_name, case.agent_name) == (
        None, citizen, "李四", "张三")
    assert case.authorization == "李四委托张三办理食品经营许可"
    assert client.get(f"/my/cases/{case.pk}/").status_code == 200


def test_an_item_not_applicable_online_says_where_to_go(citizen: User) -> None:
    response = login(citizen).get(f"/apply/{ID_CARD}/")
    page = text(response)
    assert response.status_code == 200
    assert "暂不能网上申请" in page and "该事项不支持网上受理" in page
    assert f'href="/items/{ID_CARD}/"' in page
    assert "户籍所在地公安派出所户籍窗口" in page
    response = login(citizen).post(f"/apply/{ID_CARD}/", posted())
    assert "暂不能网上申请" in text(response) and not Case.objects.exists()
    assert login(citizen).get("/apply/NO-SUCH-ITEM/").status_code == 404


def test_online_version_needs_online_handling_and_depth_three(catalog: None) -> None:
    assert drafts.online_version(item(TIME_LIMITED)) is not None
    assert drafts.online_version(item(ID_CARD)) is None


def test_staff_may_not_use_the_applicant_pages(people: dict[str, User], demo_forms: None) -> None:
    assert login(people["clerk"]).get(APPLY).status_code == 403
    assert login(people["officer"]).get("/my/cases/").status_code == 403
    anonymous = Client().get(APPLY)
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]


# --- editing a draft -----------------------------------------------------------------------------

def test_editing_the_draft_checks_the_form_and_bumps_the_version(citizen: User) -> None:
    case = draft_of(citizen)
    client = login(citizen)
    page = text(client.get(f"/my/cases/{case.pk}/form/"))
    assert 'name="f_business_name" value="兰州示例餐饮有限公司"' in page
    response = client.post(f"/my/cases/{case.pk}/form/", {**posted(floor_area="-3"),
                                                           "version": case.version})
    assert "“营业面积（平方米）”不能小于1" in text(response)
    case.refresh_from_db()
    assert case.form_data["floor_area"] == 85 and case.version == 0
    response = client.post(f"/my/cases/{case.pk}/form/", {**posted(floor_area="120"),
                                                           "version": case.version})
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.form_data["floor_area"] == 120 and case.version == 1
    assert AuditRecord.objects.filter(action="case.draft_updated").count() == 1
    # A stale page (version 0) is refused; nothing changes.
    response = client.post(f"/my/cases/{case.pk}/form/", {**posted(floor_area="99"), "version": 0})
    assert "请刷新后重试" in text(response)
    case.refresh_from_db()
    assert case.form_data["floor_area"] == 120


def test_draft_update_service_rules(citizen: User, people: dict[str, User]) -> None:
    case = draft_of(citizen)
    with pytest.raises(AccessDenied):
        drafts.case_draft_update(actor=people["other"], case=case, form_data=form_for(TIME_LIMITED))
    with pytest.raises(AccessDenied):
        drafts.case_draft_update(actor=people["officer"], case=case, form_data=form_for(TIME_LIMITED))
    with pytest.raises(RuleViolation) as error:
        drafts.case_draft_update(actor=citizen, case=case, form_data={"nope": "1"})
    assert {p.field for p in error.value.problems} >= {"form.nope", "form.business_name"}
    # The same data again changes and records nothing.
    drafts.case_draft_update(actor=citizen, case=case, form_data=form_for(TIME_LIMITED))
    case.refresh_from_db()
    assert case.version == 0 and not AuditRecord.objects.filter(action="case.draft_updated").exists()
    services.case_submit(actor=citizen, case=case)
    with pytest.raises(RuleViolation):
        drafts.case_draft_update(actor=citizen, case=case, form_data=form_for(TIME_LIMITED))


# --- materials -----------------------------------------------------------------------------------

def test_materials_page_shows_each_material_with_the_rules(citizen: User) -> None:
    case = draft_of(citizen)
    page = text(login(citizen).get(f"/my/cases/{case.pk}/materials/"))
    assert "每个文件不超过 10MB，接受 PDF、JPG、PNG、OFD 格式" in page
    for m in case.item_version.materials.all():
        assert m.name in page and f'name="file_{m.pk}"' in page
    assert "复印件1份" in page and "容缺" in page
    assert "容缺承诺：从业人员健康证明" in page


def test_uploading_materials_stores_good_files_and_names_refused_ones(citizen: User) -> None:
    case = draft_of(citizen)
    first, second = list(case.item_version.materials.all())[:2]
    client = login(citizen)
    good = io.BytesIO(PDF)
    good.name = "申请书.pdf"
    bad = io.BytesIO(b"just some text")
    bad.name = "执照.pdf"
    response = client.post(f"/my/cases/{case.pk}/materials/upload/",
                           {"back": "materials", f"file_{first.pk}": good, f"file_{second.pk}": bad})
    assert response.status_code == 422
    page = text(response)
    assert "只接受PDF、JPG、PNG或OFD文件" in page and f'id="file-{second.pk}-error"' in page
    assert "已上传：" in page and "申请书.pdf" in page
    assert list(CaseMaterial.objects.filter(case=case).values_list("material_id", flat=True)) == [first.pk]
    record = CaseMaterial.objects.get(case=case)
    served = client.get(f"/my/cases/{case.pk}/files/{record.pk}/")
    assert served.status_code == 200 and served["Content-Type"] == "application/pdf"
    assert isinstance(served, FileResponse)
    assert b"".join(served.streaming_content) == PDF
    assert login(people_other(citizen)).get(f"/my/cases/{case.pk}/files/{record.pk}/").status_code == 404


def people_other(citizen: User) -> User:
    return User.objects.get(username="lisi")


def test_promising_a_deferrable_material(citizen: User) -> None:
    case = draft_of(citizen)
    deferrable = case.item_version.materials.get(necessity="deferrable")
    client = login(citizen)
    url = f"/my/cases/{case.pk}/materials/promise/"
    response = client.post(url, {"material": deferrable.pk, "promise": "领证前补交",
                                 "promised_by": "2000-01-01"})
    assert response.status_code == 422 and "承诺补交日期不能早于今天" in text(response)
    response = client.post(url, {"material": deferrable.pk, "promise": "领证前补交",
                                 "promised_by": "不是日期"})
    assert "请填写承诺补交日期" in text(response)
    assert not CaseMaterial.objects.exists()
    response = client.post(url, {"material": deferrable.pk, "promise": "领证前补交",
                                 "promised_by": "2099-01-01"})
    assert response.status_code == 302
    record = CaseMaterial.objects.get()
    assert (record.state, record.promise, str(record.promised_by)) == ("promised", "领证前补交",
                                                                       "2099-01-01")


# --- review and submit ---------------------------------------------------------------------------

def test_review_shows_everything_and_submit_is_idempotent(citizen: User,
                                                          django_capture_on_commit_callbacks: Any) -> None:
    case = draft_of(citizen)
    client = login(citizen)
    page = text(client.get(f"/my/cases/{case.pk}/review/"))
    assert "兰州示例餐饮有限公司" in page and "热食类食品制售" in page and "张三" in page
    assert "尚缺 7 项材料" in page and "确认提交申请" in page
    with django_capture_on_commit_callbacks(execute=True):
        first = client.post(f"/my/cases/{case.pk}/submit/", {"version": case.version})
    case.refresh_from_db()
    assert case.status == Status.SUBMITTED and case.number
    assert first.status_code == 302 and first["Location"] == f"/my/cases/{case.number}/"
    # The second click of a double click (same version) lands on the same case.
    second = client.post(f"/my/cases/{case.pk}/submit/", {"version": 0})
    assert second.status_code == 302 and second["Location"] == f"/my/cases/{case.number}/"
    assert Case.objects.count() == 1 and case.events.filter(action="submit").count() == 1
    # A submitted case is no longer editable.
    assert client.get(f"/my/cases/{case.pk}/review/")["Location"] == f"/my/cases/{case.number}/"
    assert client.get(f"/my/cases/{case.pk}/form/")["Location"] == f"/my/cases/{case.number}/"


def test_another_applicants_draft_is_not_found(citizen: User, people: dict[str, User]) -> None:
    case = draft_of(citizen)
    other = login(people["other"])
    for path in ("", "form/", "materials/", "review/"):
        assert other.get(f"/my/cases/{case.pk}/{path}").status_code == 404
    assert other.post(f"/my/cases/{case.pk}/submit/", {"version": 0}).status_code == 404
    assert other.post(f"/my/cases/{case.pk}/form/", posted(floor_area="1")).status_code == 404
    case.refresh_from_db()
    assert case.status == Status.DRAFT and case.version == 0 and case.form_data["floor_area"] == 85
