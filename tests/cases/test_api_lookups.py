"""How the case API finds what a request names: the item applied for by its implementation code
and a case by its number or id — compiled reads, with a code's item id remembered in the
process (``cases.api._item_ids``), never trusted without the row read each time."""

from __future__ import annotations

from typing import Any

import pytest

from tests.cases.conftest import TIME_LIMITED, api_create, applicant_body
from tongban.accounts.models import User
from tongban.catalog.models import Item

pytestmark = pytest.mark.django_db


def test_an_item_code_changed_after_use_is_no_longer_found(api: Any,
                                                           people: dict[str, User]) -> None:
    citizen = api("citizen")
    me = applicant_body(people["citizen"])
    api_create(citizen, TIME_LIMITED, applicant=me)  # the code's item id now remembered
    Item.objects.filter(implementation_code=TIME_LIMITED).update(
        implementation_code="11620100051317876B3000100139009")
    response = citizen.post("/cases", {"item": TIME_LIMITED, "channel": "online",
                                       "applicant": me, "form_data": {}})
    assert response.status_code == 422
    assert response.json()["detail"][0]["message"] == \
        f"没有实施编码为“{TIME_LIMITED}”的事项"
    case = api_create(citizen, "11620100051317876B3000100139009", applicant=me)
    assert case["item"]["implementation_code"] == "11620100051317876B3000100139009"


def test_a_case_is_found_by_number_and_by_id_but_not_by_an_id_beyond_the_key_range(
        api: Any, people: dict[str, User]) -> None:
    citizen = api("citizen")
    case = api_create(citizen, TIME_LIMITED, applicant=applicant_body(people["citizen"]))
    submitted = citizen.post(f"/cases/{case['id']}/submit").json()
    assert citizen.get(f"/cases/{submitted['number']}").json()["id"] == case["id"]
    assert citizen.get(f"/cases/{case['id']}").json()["number"] == submitted["number"]
    for ref in ("9" * 19, "9" * 20, "0", "62010020260101999999", "x"):
        assert citizen.get(f"/cases/{ref}").status_code == 404, ref
    # Another applicant is told the case does not exist, by number as by id.
    other = api("other")
    assert other.get(f"/cases/{submitted['number']}").status_code == 404
    assert other.get(f"/cases/{case['id']}").status_code == 404
