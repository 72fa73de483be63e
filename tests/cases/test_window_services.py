"""The use cases of an applicant standing before staff (``services/window.py``): accepting, the
one-time notice and refusing at a window, and receiving at a street/town centre's desk — each
in one transaction with its visit, the same whichever door calls it."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.test import Client

from tests.cases.conftest import PROXY, TIME_LIMITED, form, form_for, item, pdf
from tongban.accounts.models import User
from tongban.audit.models import AuditRecord
from tongban.cases import services
from tongban.cases.materials import case_material_add
from tongban.cases.models import Case, CaseMaterial, Channel, Notice, Status
from tongban.cases.services import ApplicantData, SupplementItem
from tongban.core.errors import RuleViolation
from tongban.organizations.models import Hall, Window
from tongban.supervision.models import SupervisionRecord

pytestmark = pytest.mark.django_db

RESIDENT = ApplicantData(kind="natural_person", name="王五", id_number="620102199003070018",
                         phone="13893100009")


@pytest.fixture
def window(people: dict[str, User]) -> Window:
    hall = people["clerk"].hall
    assert hall is not None
    return Window.objects.create(hall=hall, number="3", name="综合受理窗口",
                                 is_comprehensive=True)


def walk_in(clerk: User, code: str = PROXY, *, materials: bool = True,
            skip: str = "") -> Case:
    """A walk-in's draft registered by the clerk, with its materials scanned."""
    case = services.case_create(actor=clerk, item=item(code), channel=Channel.WINDOW,
                                applicant=RESIDENT, form_data=form_for(code))
    if materials:
        for m in case.item_version.materials.exclude(name=skip):
            case_material_add(actor=clerk, case=case, material=m, name=m.name, upload=pdf(),
                              original_name="a.pdf")
    return case


def visits(case: Case) -> list[tuple[str, Any]]:
    case.refresh_from_db()
    return [(v.purpose, v.window) for v in case.visit_records.order_by("at", "pk")]


# --- refusal: the page and the API alike ---------------------------------------------------------

def test_a_refusal_at_the_window_is_a_visit_on_the_page_and_through_the_api(
    people: dict[str, User], demo_forms: None, window: Window, client: Client, api: Any
) -> None:
    clerk = people["clerk"]
    reason = "申请人已参加职工基本养老保险"
    on_page, named, unnamed = (walk_in(clerk) for _ in range(3))
    client.force_login(clerk)
    response = client.post(f"/window/cases/{on_page.pk}/refuse/",
                           {"reason": reason, "window": window.pk})
    assert response.status_code == 302
    # Through the API a window clerk's refusal is given at a window, named or not.
    for case, body in ((named, {"window": window.pk}), (unnamed, {})):
        services.case_submit(actor=clerk, case=case)
        response = api("clerk").post(f"/cases/{case.pk}/refuse", {"reason": reason, **body})
        assert response.status_code == 200, response.content

    for case, at in ((on_page, window), (named, window), (unnamed, None)):
        assert visits(case) == [("窗口不予受理", at)]
        assert (case.status, case.visits, case.hall) == (Status.REFUSED, 1, clerk.hall)
        assert case.notices.get().kind == Notice.Kind.REFUSAL
        assert list(case.events.values_list("action", flat=True).order_by("seq")) == [
            "create", "submit", "refuse", "record_visit"]


def test_a_department_refusing_an_online_application_records_no_visit(
    people: dict[str, User], api: Any
) -> None:
    citizen = people["citizen"]
    case = services.case_create(
        actor=citizen, item=item(TIME_LIMITED), channel=Channel.ONLINE, form_data=form(),
        applicant=ApplicantData(kind="natural_person", name=citizen.real_name,
                                id_number=citizen.id_number, phone=citizen.phone))
    services.case_submit(actor=citizen, case=case)
    response = api("officer").post(f"/cases/{case.pk}/refuse", {"reason": "不属于本机关职权范围"})
    assert response.status_code == 200
    assert visits(case) == [] and case.status == Status.REFUSED


def test_a_refusal_without_a_reason_leaves_the_draft_as_it_was(
    people: dict[str, User], demo_forms: None, window: Window
) -> None:
    case = walk_in(people["clerk"])
    with pytest.raises(RuleViolation) as refused:
        services.case_window_refuse(actor=people["clerk"], case=case, reason=" ", window=window)
    assert [p.field for p in refused.value.problems] == ["reason"]
    case.refresh_from_db()
    # Not submitted either: the submission and the refusal are one transaction.
    assert (case.status, case.number, case.visits) == (Status.DRAFT, None, 0)


# --- acceptance ----------------------------------------------------------------------------------

def test_accepting_a_walk_ins_draft_submits_and_accepts_it_in_one_visit(
    people: dict[str, User], demo_forms: None, window: Window
) -> None:
    clerk = people["clerk"]
    case = walk_in(clerk)
    accepted = services.case_window_accept(actor=clerk, case=case, window=window,
                                           expected_version=case.version)
    assert accepted.status == Status.ACCEPTED and accepted.number
    assert visits(case) == [("窗口受理", window)]
    assert list(case.events.values_list("action", flat=True).order_by("seq")) == [
        "create", "submit", "accept"]


def test_a_window_of_another_hall_is_refused_and_nothing_changes(
    people: dict[str, User], demo_forms: None
) -> None:
    clerk = people["clerk"]
    other_hall = Hall.objects.exclude(pk=clerk.hall_id or 0).first()
    assert other_hall is not None
    elsewhere = Window.objects.create(hall=other_hall,
                                      number="1", name="别处窗口", is_comprehensive=True)
    case = walk_in(clerk)
    with pytest.raises(RuleViolation) as refused:
        services.case_window_accept(actor=clerk, case=case, window=elsewhere)
    assert [(p.field, str(p.message)) for p in refused.value.problems] == [
        ("window", "该窗口不属于您所在的大厅")]
    case.refresh_from_db()
    assert (case.status, case.number, case.visits) == (Status.DRAFT, None, 0)


# --- the one-time notice -------------------------------------------------------------------------

def test_the_notice_at_the_window_is_a_visit_through_the_api_too(
    people: dict[str, User], demo_forms: None, window: Window, api: Any
) -> None:
    case = walk_in(people["clerk"], TIME_LIMITED, skip="营业执照")
    business = case.item_version.materials.get(name="营业执照")
    response = api("clerk").post(f"/cases/{case.pk}/supplement", {
        "window": window.pk,
        "items": [{"name": business.name, "reason": "未提交", "material_id": business.pk}]})
    assert response.status_code == 200, response.content
    assert visits(case) == [("窗口一次性告知", window)]
    assert case.status == Status.SUPPLEMENT


def test_a_second_notice_naming_something_new_is_refused_and_stays_on_record(
    people: dict[str, User], demo_forms: None, window: Window
) -> None:
    clerk = people["clerk"]
    case = walk_in(clerk, TIME_LIMITED, skip="营业执照")
    business = case.item_version.materials.get(name="营业执照")
    promise = case.item_version.materials.get(name="告知承诺书")
    services.case_window_supplement(actor=clerk, case=case, window=window, items=[
        SupplementItem(name=business.name, reason="未提交", material_id=business.pk)])
    case_material_add(actor=clerk, case=case, material=business, name=business.name,
                      upload=pdf(), original_name="b.pdf")

    with pytest.raises(RuleViolation) as refused:
        services.case_window_supplement(actor=clerk, case=case, window=window, items=[
            SupplementItem(name=promise.name, reason="须加盖公章", material_id=promise.pk)])
    assert [p.field for p in refused.value.problems] == ["items[0].name"]

    # The supply and the second notice were undone with their visit; the attempt was not.
    case.refresh_from_db()
    assert case.status == Status.SUPPLEMENT
    assert case.notices.filter(kind=Notice.Kind.SUPPLEMENT).count() == 1
    assert visits(case) == [("窗口一次性告知", window)]
    assert SupervisionRecord.objects.get(case=case).kind == "supplement_not_one_time"
    assert AuditRecord.objects.filter(action="case.supplement_not_one_time").count() == 1


# --- the street/town centre's desk ---------------------------------------------------------------

def test_the_desk_receives_a_walk_in_in_one_visit_and_once_per_key(
    people: dict[str, User], demo_forms: None
) -> None:
    proxy = people["proxy"]
    version = item(PROXY).current
    assert version is not None
    uploads = [(m, pdf()) for m in version.materials.all()]
    case = services.case_proxy_receive(actor=proxy, item=item(PROXY), applicant=RESIDENT,
                                       form_data=form_for(PROXY), uploads=uploads,
                                       idempotency_key="k-1")
    assert (case.status, case.channel, case.hall) == (Status.ACCEPTED, "window", proxy.hall)
    assert visits(case) == [("窗口受理", None)]
    assert case.materials.filter(state=CaseMaterial.State.SUPPLIED).count() == len(uploads)
    again = services.case_proxy_receive(actor=proxy, item=item(PROXY), applicant=RESIDENT,
                                        form_data=form_for(PROXY), idempotency_key="k-1")
    assert again.pk == case.pk and Case.objects.count() == 1


def test_a_bad_file_at_the_desk_names_its_material_and_leaves_nothing(
    people: dict[str, User], demo_forms: None
) -> None:
    version = item(PROXY).current
    assert version is not None
    material = version.materials.first()
    assert material is not None
    bad = io.BytesIO(b"MZ not a document")
    bad.name = "x.pdf"
    with pytest.raises(RuleViolation) as refused:
        services.case_proxy_receive(actor=people["proxy"], item=item(PROXY), applicant=RESIDENT,
                                    form_data=form_for(PROXY), uploads=[(material, bad)])
    assert [p.field for p in refused.value.problems] == [f"material.{material.pk}"]
    assert not Case.objects.exists()


def test_the_desk_through_the_api_is_the_same_use_case(
    people: dict[str, User], demo_forms: None
) -> None:
    """``POST /api/v1/proxy/cases`` (multipart: the JSON payload and a part per material) is
    ``case_proxy_receive``: accepted in one visit, once per Idempotency-Key; a bad file names
    its material and leaves nothing."""
    import json

    version = item(PROXY).current
    assert version is not None
    client = Client()
    client.force_login(people["proxy"])
    payload = json.dumps({"item": item(PROXY).implementation_code, "form_data": form_for(PROXY),
                          "applicant": {"kind": "natural_person", "name": RESIDENT.name,
                                        "id_number": RESIDENT.id_number,
                                        "phone": RESIDENT.phone}})
    material = version.materials.first()
    assert material is not None
    bad = io.BytesIO(b"MZ not a document")
    bad.name = "x.pdf"
    refused = client.post("/api/v1/proxy/cases", {"payload": payload,
                                                  f"material.{material.pk}": bad})
    assert refused.status_code == 422
    assert [p["field"] for p in refused.json()["detail"]] == [f"material.{material.pk}"]
    assert not Case.objects.exists()

    files = {}
    for m in version.materials.all():
        upload = pdf()
        upload.name = f"{m.pk}.pdf"
        files[f"material.{m.pk}"] = upload
    created = client.post("/api/v1/proxy/cases", {"payload": payload, **files},
                          headers={"Idempotency-Key": "desk-1"})
    assert created.status_code == 201, created.content
    case = Case.objects.get()
    assert (case.status, case.channel, case.hall) == (Status.ACCEPTED, "window",
                                                      people["proxy"].hall)
    assert visits(case) == [("窗口受理", None)]
    again = client.post("/api/v1/proxy/cases", {"payload": payload},
                        headers={"Idempotency-Key": "desk-1"})
    assert again.status_code == 201 and Case.objects.count() == 1
    citizen = Client()
    citizen.force_login(people["citizen"])
    assert citizen.post("/api/v1/proxy/cases", {"payload": payload}).status_code == 403
