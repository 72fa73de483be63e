"""One application form, three doors: the portal (the applicant online), the comprehensive window
(a clerk) and the proxy desk (a street centre's agent) build the item's form fields with one
builder (``cases.forms.ApplicationFieldsForm``), show them with one template
(``cases/_form_fields.html``) and give the same answer to the same bad input — the answer of
``form_validate`` through the case service, as the API gives it."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from tests.cases.conftest import PROXY, form_for, item, named_pdf
from tongban.accounts.models import User
from tongban.cases.forms import ApplicationFieldsForm
from tongban.cases.models import Case
from tongban.organizations.models import Window

pytestmark = pytest.mark.django_db

# 城乡居民基本养老保险参保登记: open online, at the window and at the street centre's proxy desk.
CHOICE_MESSAGE = "“缴费档次（元/年）”须为以下之一：200、300、500、700、1000、2000、3000、5000"
REQUIRED_MESSAGE = "“参保人姓名”为必填项"
# A choice outside the definition's list, a required field holding only spaces.
BAD = {"contribution_grade": "450", "insured_name": "   "}
# The names each door gives the spec ``<name>``.
PREFIXES = {"portal": "f_", "window": "form_", "proxy": "form."}


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = str(tmp_path)


def login(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def spec_values(door: str, **changes: str) -> dict[str, str]:
    return {PREFIXES[door] + k: str(v) for k, v in {**form_for(PROXY), **changes}.items()}


def open_page(door: str, people: dict[str, User]) -> Any:
    if door == "portal":
        return login(people["citizen"]).get(f"/apply/{PROXY}/")
    if door == "window":
        return login(people["clerk"]).get(f"/window/items/{PROXY}/")
    return login(people["proxy"]).get(reverse("cases:proxy_receive"), {"item": PROXY})


def post_bad(door: str, people: dict[str, User]) -> Any:
    if door == "portal":
        return login(people["citizen"]).post(f"/apply/{PROXY}/", {
            **spec_values(door, **BAD), "idempotency_key": "k-portal"})
    if door == "window":
        return login(people["clerk"]).post(f"/window/items/{PROXY}/", {
            **spec_values(door, **BAD), "idempotency_key": "k-window",
            "applicant_kind": "natural_person", "applicant_name": "王五",
            "applicant_id_number": "620102199003070018", "applicant_phone": "13893100009"})
    version = item(PROXY).current
    assert version is not None
    return login(people["proxy"]).post(reverse("cases:proxy_receive"), {
        **spec_values(door, **BAD), "item": PROXY, "key": "k-proxy",
        "applicant_name": "王五", "applicant_id_number": "620102199003070018",
        "applicant_phone": "13893100009",
        **{f"material.{m.pk}": named_pdf(m.name) for m in version.materials.all()}})


def field_block(page: str, door: str, name: str) -> str:
    """The markup of one spec field, with the door's prefix taken out of its names and ids."""
    blocks = re.findall(r'<div class="field[^"]*">.*?</div>', page, flags=re.S)
    found = [b for b in blocks if f'name="{PREFIXES[door]}{name}"' in b]
    assert len(found) == 1, (door, name)
    return found[0].replace(PREFIXES[door] + name, "<name>")


def field_errors(page: str, door: str, name: str) -> list[str]:
    return re.findall(r'<p class="error" id="[^"]*">(.*?)</p>', field_block(page, door, name),
                      flags=re.S)


@pytest.fixture
def doors(people: dict[str, User], demo_forms: None) -> dict[str, User]:
    clerk = people["clerk"]
    assert clerk.hall is not None
    Window.objects.create(hall=clerk.hall, number="3", name="综合受理窗口", is_comprehensive=True)
    return people


@pytest.mark.parametrize("door", list(PREFIXES))
def test_every_door_builds_the_form_with_the_one_builder_and_template(
        doors: dict[str, User], door: str) -> None:
    response = open_page(door, doors)
    assert response.status_code == 200
    assert "cases/_form_fields.html" in [t.name for t in response.templates]
    form = response.context["form"]
    assert isinstance(form, ApplicationFieldsForm)
    assert [f.name for f in form.spec_fields()] == [
        PREFIXES[door] + spec["name"] for spec in form.specs]


def test_the_doors_show_the_same_fields(doors: dict[str, User]) -> None:
    pages = {door: open_page(door, doors).content.decode() for door in PREFIXES}
    names = [spec["name"] for spec in open_page("window", doors).context["form"].specs]
    assert "contribution_grade" in names
    for name in names:
        shown = {door: field_block(page, door, name) for door, page in pages.items()}
        assert shown["window"] == shown["proxy"], name
        # The portal prefills the applicant's own data and lets the browser offer it.
        own = re.compile(r' (value|autocomplete)="[^"]*"')
        assert own.sub("", shown["portal"]) == own.sub("", shown["window"]), name
    grade = field_block(pages["window"], "window", "contribution_grade")
    assert '<select name="<name>" required id="id_<name>">' in grade
    assert '<option value="500">500</option>' in grade
    assert '<span class="req" aria-hidden="true">（必填）</span>' in grade
    residence = field_block(pages["proxy"], "proxy", "residence_address")
    assert 'aria-describedby="id_<name>_helptext"' in residence
    assert '<p class="help" id="id_<name>_helptext">与户籍地址不同时填写</p>' in residence


@pytest.mark.parametrize("door", list(PREFIXES))
def test_the_same_bad_input_gets_the_same_answer_at_every_door(
        doors: dict[str, User], door: str) -> None:
    response = post_bad(door, doors)
    assert response.status_code == (422 if door == "proxy" else 200)
    page = response.content.decode()
    assert field_errors(page, door, "contribution_grade") == [CHOICE_MESSAGE]
    assert field_errors(page, door, "insured_name") == [REQUIRED_MESSAGE]
    assert 'aria-invalid="true"' in field_block(page, door, "insured_name")
    # The other fields are kept as typed and carry no message.
    assert field_errors(page, door, "household_address") == []
    assert 'value="兰州市城关区皋兰路街道"' in field_block(page, door, "household_address")
    assert not Case.objects.exists()
