"""An older resident's valid ID number (born 1955 under 城关区's code of 1983) is taken at every
door of an application: online through the API (as applicant and as the person an agent acts
for), in an ID-number form field, at the window and at the proxy desk."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from tests.cases.conftest import PROXY, TIME_LIMITED, ApiClient, form, form_for, item, named_pdf
from tests.conftest import make_user
from tongban.accounts.models import Role, User
from tongban.cases.forms import form_validate
from tongban.cases.models import Case
from tongban.organizations.models import Window

pytestmark = pytest.mark.django_db

ELDER = "620102195506101236"


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = str(tmp_path)


def body(applicant: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"item": TIME_LIMITED, "channel": "online", "applicant": applicant, "form_data": form(),
            **extra}


def test_an_older_resident_applies_online_through_the_api(people: dict[str, User]) -> None:
    make_user("wangxl", Role.CITIZEN, real_name="王秀兰", id_number=ELDER, phone="13912345670")
    client = ApiClient("wangxl")
    response = client.post("/cases", body({"kind": "natural_person", "name": "王秀兰",
                                           "id_number": ELDER, "phone": "13912345670"}))
    assert response.status_code == 201, response.content
    case = Case.objects.get()
    assert (case.applicant_name, case.applicant_id_number) == ("王秀兰", ELDER)


def test_a_citizen_applies_as_agent_for_an_older_resident(api: Any, people: dict[str, User]) -> None:
    response = api("citizen").post("/cases", body(
        {"kind": "natural_person", "name": "王秀兰", "id_number": ELDER},
        agent={"name": "张三", "id_number": people["citizen"].id_number,
               "authorization": "王秀兰委托张三办理"}))
    assert response.status_code == 201, response.content
    case = Case.objects.get()
    assert (case.applicant_id_number, case.agent, case.applicant) == (ELDER, people["citizen"], None)


def test_an_older_residents_number_is_taken_in_an_id_number_form_field(demo_forms: None) -> None:
    _clean, found = form_validate(version=item(TIME_LIMITED).current,
                                  data={**form_for(TIME_LIMITED), "legal_representative_id": ELDER})
    assert found == []
    _clean, found = form_validate(version=item(TIME_LIMITED).current, data={
        **form_for(TIME_LIMITED), "legal_representative_id": "620199195506101235"})
    assert [(p.field, str(p.message)) for p in found] == [
        ("form.legal_representative_id",
         "“法定代表人身份证号”前6位620199不是任何时期的行政区划代码")]


def test_the_window_registers_an_older_walk_in(people: dict[str, User], demo_forms: None) -> None:
    clerk = people["clerk"]
    assert clerk.hall is not None
    Window.objects.create(hall=clerk.hall, number="3", name="综合受理窗口", is_comprehensive=True)
    client = Client()
    client.force_login(clerk)
    data = {"applicant_kind": "natural_person", "applicant_name": "王秀兰",
            "applicant_id_number": ELDER, "applicant_phone": "13912345670",
            "idempotency_key": "k-elder",
            **{f"form_{k}": v for k, v in form_for(TIME_LIMITED).items()}}
    response = client.post(f"/window/items/{TIME_LIMITED}/", data)
    assert response.status_code == 302, response.content.decode()
    assert Case.objects.get().applicant_id_number == ELDER

    # A wrong number says what is wrong with it, and nothing is saved.
    response = client.post(f"/window/items/{TIME_LIMITED}/",
                           {**data, "applicant_id_number": "620102195502301230",
                            "idempotency_key": "k-bad"})
    assert response.status_code == 200
    assert "公民身份号码第7至14位的出生日期1955-02-30不是有效日期" in response.content.decode()
    assert Case.objects.count() == 1


def test_the_proxy_desk_receives_an_older_resident(people: dict[str, User]) -> None:
    client = Client()
    client.force_login(people["proxy"])
    version = item(PROXY).current
    assert version is not None
    data: dict[str, Any] = {"item": PROXY, "key": "k-elder", "applicant_name": "王秀兰",
                            "applicant_id_number": ELDER, "applicant_phone": "13912345670",
                            "form.contact_phone": "13912345670", "form.purpose": "参保登记"}
    for m in version.materials.all():
        data[f"material.{m.pk}"] = named_pdf(m.name)
    response = client.post(reverse("cases:proxy_receive"), data)
    assert response.status_code == 302, response.content.decode()
    assert Case.objects.get().applicant_id_number == ELDER


