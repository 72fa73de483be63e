"""Who sees which cases through the API, who may act on them, and what each role sees masked."""

from __future__ import annotations

from typing import Any

import pytest

from tests.cases.conftest import (
    PROXY,
    TIME_LIMITED,
    WALK_IN,
    api_create,
    api_upload_all,
    applicant_body,
    form_for,
    named_pdf,
    ok,
)
from tongban.accounts.models import User
from tongban.cases.models import Case, CaseEvent

pytestmark = pytest.mark.django_db


def listed(client: Any, **params: Any) -> list[int]:
    return [c["id"] for c in ok(client.get("/cases", params))["items"]]


def snapshot(case_id: int) -> tuple[str, int, int]:
    case = Case.objects.get(pk=case_id)
    return case.status, case.version, CaseEvent.objects.filter(case=case).count()


def submitted(api: Any, people: dict[str, User], who: str, code: str = TIME_LIMITED) -> dict[str, Any]:
    client = api(who)
    case = api_upload_all(client, api_create(client, code, applicant=applicant_body(people[who])))
    return ok(client.post(f"/cases/{case['id']}/submit"))


def test_applicants_see_only_their_own_cases(api: Any, people: dict[str, User]) -> None:
    mine = submitted(api, people, "citizen")
    theirs = submitted(api, people, "other")
    citizen, other = api("citizen"), api("other")

    assert listed(citizen) == [mine["id"]]
    assert listed(other) == [theirs["id"]]
    for ref in (mine["id"], mine["number"]):
        response = other.get(f"/cases/{ref}")
        assert response.status_code == 404
        assert response.json() == {"detail": "办件不存在，或您无权查看"}
    assert ok(citizen.get(f"/cases/{mine['number']}"))["id"] == mine["id"]

    # Acting on someone else's case: as absent, and nothing changes.
    before = snapshot(mine["id"])
    assert other.post(f"/cases/{mine['id']}/withdraw", {"reason": "不办了"}).status_code == 404
    assert other.upload(f"/cases/{mine['id']}/materials",
                        {"name": "附件", "file": named_pdf("附件")}).status_code == 404
    assert snapshot(mine["id"]) == before

    # A citizen with no case of their own lists nothing.
    api("other").post(f"/cases/{theirs['id']}/withdraw", {"reason": "重复申请"})
    assert listed(other, status="submitted") == []
    assert listed(other, status="withdrawn") == [theirs["id"]]


def test_an_agent_sees_the_case_they_applied_for(api: Any, people: dict[str, User]) -> None:
    other = api("other")
    agent = {"name": "李四", "id_number": people["other"].id_number, "authorization": "委托书已签"}
    case = api_create(other, TIME_LIMITED, applicant=WALK_IN, agent=agent)
    assert case["agent"] == {"name": "李四", "id_number": people["other"].id_number,
                             "authorization": "委托书已签", "account": "lisi"}
    assert case["applicant"]["account"] is None
    assert listed(other) == [case["id"]]
    assert listed(api("citizen")) == []


def test_departments_see_only_their_own_work(api: Any, people: dict[str, User]) -> None:
    case = submitted(api, people, "citizen")
    officer, hr_officer, hr_head = api("officer"), api("hr_officer"), api("hr_head")

    assert ok(officer.get(f"/cases/{case['id']}"))["number"] == case["number"]
    assert case["id"] in listed(officer)
    assert listed(hr_officer) == [] and listed(hr_head) == []
    before = snapshot(case["id"])
    for path, body in (("accept", {}), ("refuse", {"reason": "不属于本部门"}),
                       ("supplement", {"items": [{"name": "x", "reason": "y"}]})):
        response = hr_officer.post(f"/cases/{case['id']}/{path}", body)
        assert response.status_code == 404, path
    assert hr_officer.get(f"/cases/{case['number']}").status_code == 404
    assert snapshot(case["id"]) == before

    # The clerks of the city hall see the walk-ins received there, not online applications.
    assert api("clerk").get(f"/cases/{case['id']}").status_code == 404
    walk_in = api_create(api("clerk"), TIME_LIMITED, applicant=WALK_IN, channel="window")
    assert listed(api("clerk")) == [walk_in["id"]]
    # The walk-in's draft is still being filled in at the window: not the department's yet.
    assert listed(officer) == [case["id"]]


def test_seeing_a_case_is_not_being_allowed_to_act(api: Any, people: dict[str, User]) -> None:
    case = submitted(api, people, "citizen")
    before = snapshot(case["id"])
    # The applicant may not accept their own application; an officer may not terminate (heads
    # do) nor withdraw it (the applicant does).
    for client, path, body in ((api("citizen"), "accept", {}),
                               (api("officer"), "terminate", {"reason": "无"}),
                               (api("officer"), "withdraw", {})):
        response = client.post(f"/cases/{case['id']}/{path}", body)
        assert response.status_code == 403, path
        assert response.json() == {"detail": "您无权对该办件执行此操作"}
    assert snapshot(case["id"]) == before
    # A step of the department: the applicant cannot see it, another department neither.
    accepted = ok(api("officer").post(f"/cases/{case['id']}/accept"))
    [task] = [t for t in accepted["tasks"] if t["status"] == "open"]
    assert api("hr_officer").post(f"/tasks/{task['id']}/act", {"action": "approve"}).status_code == 404
    response = api("head").post(f"/tasks/{task['id']}/act", {"action": "approve"})
    assert response.status_code == 403  # the head sees the case, but review is the officer's
    assert snapshot(case["id"])[0] == "accepted"


def test_lists_and_details_agree_for_every_role(api: Any, overseers: dict[str, User]) -> None:
    people = overseers
    cases = [submitted(api, people, "citizen")["id"], submitted(api, people, "other")["id"],
             api_create(api("clerk"), TIME_LIMITED, applicant=WALK_IN, channel="window")["id"],
             api_create(api("proxy"), PROXY, applicant=WALK_IN, channel="window")["id"]]
    # Walk-ins submitted at the window (a draft is seen only by the hall filling it in).
    ok(api("clerk").post(f"/cases/{cases[2]}/submit"))
    ok(api("proxy").post(f"/cases/{cases[3]}/submit"))
    expected = {
        "citizen": [cases[0]], "other": [cases[1]], "clerk": [cases[2]],
        "officer": cases[:3], "head": cases[:3], "hr_officer": [cases[3]],
        "hr_head": [cases[3]], "proxy": [cases[3]], "supervisor": cases, "bureau": cases,
    }
    for name, visible in expected.items():
        client = api(name)
        assert sorted(listed(client)) == sorted(visible), name
        for case_id in cases:
            status = client.get(f"/cases/{case_id}").status_code
            assert status == (200 if case_id in visible else 404), (name, case_id)


def test_list_filters_and_pages(api: Any, people: dict[str, User]) -> None:
    first = submitted(api, people, "citizen")
    second = submitted(api, people, "citizen")
    draft = api_create(api("citizen"), TIME_LIMITED, applicant=applicant_body(people["citizen"]))
    citizen = api("citizen")
    accepted = ok(api("officer").post(f"/cases/{first['id']}/accept"))

    assert listed(citizen) == [draft["id"], second["id"], first["id"]]  # newest first
    assert listed(citizen, status="draft,submitted") == [draft["id"], second["id"]]
    assert listed(citizen, item=TIME_LIMITED, status="accepted") == [first["id"]]
    assert listed(citizen, item="nothing") == []
    assert listed(citizen, due_before="2099-01-01T00:00:00+08:00") == [first["id"]]
    assert listed(citizen, due_before=accepted["due_at"]) == []
    state = accepted["deadline_state"]
    assert first["id"] in listed(citizen, deadline_state=state)
    assert listed(citizen, deadline_state="red") == []
    page = ok(citizen.get("/cases", {"page": 2, "page_size": 2}))
    assert (page["count"], page["page"], [c["id"] for c in page["items"]]) == (3, 2, [first["id"]])
    entry = ok(citizen.get("/cases", {"status": "accepted"}))["items"][0]
    assert (entry["number"], entry["status_label"], entry["item"]["name"], entry["due_at"]) == (
        first["number"], "已受理（办理中）", "食品经营许可（新办）", accepted["due_at"])


def test_identifiers_are_masked_for_roles_that_do_not_need_them(
    api: Any, overseers: dict[str, User], demo_forms: None
) -> None:
    people = overseers
    citizen = people["citizen"]  # 620102199003077770, 13893100001
    case = api_create(api("citizen"), PROXY, applicant=applicant_body(citizen),
                      form_data=form_for(PROXY))
    ok(api("citizen").post(f"/cases/{case['id']}/submit"))
    whole = {"id_number": "620102199003077770", "phone": "13893100001"}
    masked = {"id_number": "6201**********7770", "phone": "138****0001"}
    for name, sees in (("citizen", whole), ("hr_officer", whole), ("hr_head", whole),
                       ("proxy", whole), ("supervisor", masked), ("bureau", masked)):
        data = ok(api(name).get(f"/cases/{case['id']}"))
        party = data["applicant"]
        assert {"id_number": party["id_number"], "phone": party["phone"]} == sees, name
        form = data["form_data"]
        if sees is whole:
            assert (form["insured_id"], form["household_address"], form["contact_phone"]) == (
                "620102199003077770", "兰州市城关区皋兰路街道", "13893100001"), name
        else:
            assert (form["insured_id"], form["household_address"], form["contact_phone"]) == (
                "6201**********7770", "兰州市城关区****", "138****0001"), name
            assert form["insured_name"] == "张三"  # names are not masked

    # A walk-in at the city hall: the clerk at the window sees it masked, the department whole.
    walk_in = api_create(api("clerk"), TIME_LIMITED, applicant=WALK_IN, channel="window",
                         form_data=form_for(TIME_LIMITED))
    ok(api("clerk").post(f"/cases/{walk_in['id']}/submit"))
    assert ok(api("clerk").get(f"/cases/{walk_in['id']}"))["applicant"]["id_number"] == \
        "6201**********0018"
    assert ok(api("officer").get(f"/cases/{walk_in['id']}"))["applicant"]["id_number"] == \
        "620102199003070018"
