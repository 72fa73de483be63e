"""The catalog's write API: drafts, submission, review, cancellation and history, with tokens
for the bureau, officers of the right and the wrong department, and a citizen."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import pytest
from django.test import Client

from tests.catalog.bureau_factories import (
    item_data,
    material,
    publish,
    with_changes,
)
from tongban.accounts.models import User
from tongban.audit.models import AuditRecord
from tongban.catalog import services
from tongban.catalog.models import Item, ItemVersion, Material, VersionStatus
from tongban.catalog.rules import ItemData
from tongban.organizations.models import Department

S = VersionStatus
API = "/api/v1"


class Api:
    """Calls the API with a bearer token obtained from POST /api/v1/auth/token."""

    def __init__(self, client: Client, user: User | None) -> None:
        self.client = client
        self.headers: dict[str, str] = {}
        if user is not None:
            response = client.post(f"{API}/auth/token", {"username": user.username,
                                                         "password": "secret-pass-123"},
                                   content_type="application/json")
            assert response.status_code == 200
            self.headers = {"Authorization": f"Bearer {response.json()['token']}"}

    def get(self, path: str) -> Any:
        return self.client.get(API + path, headers=self.headers)

    def post(self, path: str, body: dict[str, Any] | None = None) -> Any:
        return self.client.post(API + path, body or {}, content_type="application/json",
                                headers=self.headers)


def body(data: ItemData, *, department: Any = None, **overrides: Any) -> dict[str, Any]:
    """The JSON body for ``data``: the department by USCC unless given."""
    assert data.department is not None
    out: dict[str, Any] = {name: getattr(data, name) for name in ItemData.VERSION_FIELDS}
    out["receiving_unit"] = data.receiving_unit.uscc if data.receiving_unit else None
    out.update(department=department if department is not None else data.department.uscc,
               basic_code=data.basic_code, implementation_code=data.implementation_code,
               materials=[asdict(m) for m in data.materials], change_note="接口新增")
    out.update(overrides)
    return out


def snapshot() -> tuple[list[Any], list[Any], list[Any], int]:
    return (list(Item.objects.order_by("pk").values()),
            list(ItemVersion.objects.order_by("pk").values()),
            list(Material.objects.order_by("pk").values()), AuditRecord.objects.count())


# --- POST /drafts -------------------------------------------------------------------------------

def test_an_officer_saves_a_draft_for_their_department(client: Client, officer: User,
                                                       dept: Department) -> None:
    data = item_data(dept)
    response = Api(client, officer).post("/drafts", body(data))
    assert response.status_code == 200
    out = response.json()
    assert (out["implementation_code"], out["version"], out["status"], out["status_label"]) == (
        data.implementation_code, 1, "draft", "草稿")
    assert (out["created_by"], out["department"]["uscc"], out["change_note"]) == (
        "officer", dept.uscc, "接口新增")
    assert out["created_at"].endswith("+08:00")
    assert [(m["position"], m["name"], m["copy_copies"]) for m in out["materials"]] == [
        (1, "申请表", 0), (2, "身份证明", 1)]
    draft = ItemVersion.objects.get()
    assert services.version_content(draft) == services.data_content(data)


def test_the_department_may_be_given_by_id_and_the_code_left_out(client: Client, bureau: User,
                                                                 dept: Department) -> None:
    data = item_data(dept)
    response = Api(client, bureau).post("/drafts", body(data, department=dept.pk,
                                                        implementation_code="", level=None))
    assert response.status_code == 200
    assert response.json()["implementation_code"] == data.implementation_code


def test_saving_again_updates_the_draft(client: Client, officer: User, dept: Department) -> None:
    api = Api(client, officer)
    data = item_data(dept)
    api.post("/drafts", body(data))
    response = api.post("/drafts", body(data, name="改名", materials=[asdict(material("新表"))]))
    assert response.status_code == 200
    assert (response.json()["version"], response.json()["name"]) == (1, "改名")
    assert [m["name"] for m in response.json()["materials"]] == ["新表"]
    assert ItemVersion.objects.count() == 1


def test_rule_violations_answer_422_with_json_paths(client: Client, officer: User,
                                                    dept: Department) -> None:
    data = item_data(dept)
    materials = [asdict(m) for m in data.materials]
    materials[1]["copy_copies"] = 0
    api = Api(client, officer)
    before = snapshot()
    response = api.post("/drafts", body(data, committed_limit=30, materials=materials))
    assert response.status_code == 422
    assert response.json() == {"detail": [
        {"field": "committed_limit", "message": "承诺办结时限（30）不得超过法定办结时限（20）"},
        {"field": "materials[1].copy_copies",
         "message": "材料类型为复印件时，复印件份数至少为1、原件份数为0"},
    ]}
    assert snapshot() == before


def test_unknown_departments_are_rule_violations(client: Client, bureau: User,
                                                 dept: Department) -> None:
    api = Api(client, bureau)
    data = item_data(dept)
    response = api.post("/drafts", body(data, department="91110000600037341L"))
    assert (response.status_code, response.json()["detail"]) == (
        422, [{"field": "department", "message": "实施主体不存在"}])
    response = api.post("/drafts", body(data, commitment="proxy", receiving_unit=999999))
    assert (response.status_code, response.json()["detail"]) == (
        422, [{"field": "receiving_unit", "message": "代办受理单位不存在"}])
    assert Item.objects.count() == 0


@pytest.mark.parametrize("who", ["stranger", "citizen"])
def test_others_may_not_save_drafts(client: Client, dept: Department, who: str,
                                    request: pytest.FixtureRequest) -> None:
    api = Api(client, request.getfixturevalue(who))
    before = snapshot()
    response = api.post("/drafts", body(item_data(dept)))
    assert (response.status_code, response.json()) == (403, {"detail": "您无权执行此操作"})
    assert snapshot() == before


def test_without_a_token_the_api_answers_401(client: Client, dept: Department) -> None:
    response = Api(client, None).post("/drafts", body(item_data(dept)))
    assert response.status_code == 401
    assert Item.objects.count() == 0


# --- GET /drafts --------------------------------------------------------------------------------

def test_drafts_list_what_the_caller_may_edit(client: Client, bureau: User, officer: User,
                                              stranger: User, citizen: User, dept: Department,
                                              other_dept: Department) -> None:
    mine = services.item_save_draft(actor=officer, data=item_data(dept, sequence=1))
    services.version_submit(actor=officer, version=mine)
    services.item_save_draft(actor=bureau, data=item_data(other_dept, sequence=2))
    publish(item_data(dept, sequence=3), actor=bureau)  # published: not a draft

    def listed(user: User) -> list[tuple[str, str]]:
        response = Api(client, user).get("/drafts")
        assert response.status_code == 200
        return sorted((v["department"]["name"], v["status"]) for v in response.json())

    assert listed(officer) == [("兰州市测试局", "under_review")]
    assert listed(stranger) == [("兰州市其他局", "draft")]
    assert listed(bureau) == [("兰州市其他局", "draft"), ("兰州市测试局", "under_review")]
    assert Api(client, citizen).get("/drafts").status_code == 403


# --- submit / review / cancel -------------------------------------------------------------------

def test_submit(client: Client, officer: User, stranger: User, citizen: User,
                dept: Department) -> None:
    draft = services.item_save_draft(actor=officer, data=item_data(dept))
    path = f"/items/{draft.item.implementation_code}/submit"
    for user in (stranger, citizen):
        api = Api(client, user)
        before = snapshot()
        assert api.post(path).status_code == 403
        assert snapshot() == before
    response = Api(client, officer).post(path)
    assert (response.status_code, response.json()["status"]) == (200, "under_review")
    again = Api(client, officer).post(path)
    assert (again.status_code, again.json()["detail"]) == (
        422, [{"field": "status", "message": "版本状态“审核中”不能变为“审核中”"}])
    assert Api(client, officer).post("/items/NOSUCHCODE/submit").status_code == 404


def test_submit_without_a_draft(client: Client, officer: User, stranger: User, bureau: User,
                                dept: Department) -> None:
    version = publish(item_data(dept), actor=bureau)
    path = f"/items/{version.item.implementation_code}/submit"
    response = Api(client, officer).post(path)
    assert (response.status_code, response.json()["detail"]) == (
        422, [{"field": "status", "message": "该事项没有草稿"}])
    assert Api(client, stranger).post(path).status_code == 403


def test_review(client: Client, bureau: User, officer: User, citizen: User,
                dept: Department) -> None:
    first = services.item_save_draft(actor=officer, data=item_data(dept, sequence=1))
    second = services.item_save_draft(actor=officer, data=item_data(dept, sequence=2))
    for v in (first, second):
        services.version_submit(actor=officer, version=v)
    publish_path = f"/items/{first.item.implementation_code}/review"
    for user in (officer, citizen):
        refused = Api(client, user)
        before = snapshot()
        assert refused.post(publish_path, {"approve": True, "note": ""}).status_code == 403
        assert snapshot() == before

    api = Api(client, bureau)
    response = api.post(publish_path, {"approve": True, "note": "同意"})
    assert response.status_code == 200
    out = response.json()
    assert (out["status"], out["review_note"], out["published_by"]) == (
        "published", "同意", "bureau-admin")
    assert out["published_at"].endswith("+08:00")
    again = api.post(publish_path, {"approve": True})
    assert (again.status_code, again.json()["detail"]) == (
        422, [{"field": "status", "message": "该事项没有待审核的版本"}])

    return_path = f"/items/{second.item.implementation_code}/review"
    response = api.post(return_path, {"approve": False, "note": ""})
    assert (response.status_code, response.json()["detail"]) == (
        422, [{"field": "note", "message": "退回时须填写审核意见"}])
    response = api.post(return_path, {"approve": False, "note": "补充材料"})
    assert (response.status_code, response.json()["status"], response.json()["review_note"]) == (
        200, "draft", "补充材料")


def test_cancel(client: Client, bureau: User, officer: User, citizen: User,
                dept: Department) -> None:
    version = publish(item_data(dept), actor=bureau)
    path = f"/items/{version.item.implementation_code}/cancel"
    for user in (officer, citizen):
        refused = Api(client, user)
        before = snapshot()
        assert refused.post(path, {"reason": "撤销"}).status_code == 403
        assert snapshot() == before
    api = Api(client, bureau)
    response = api.post(path, {"reason": ""})
    assert (response.status_code, response.json()["detail"]) == (
        422, [{"field": "reason", "message": "取消事项须说明理由"}])
    response = api.post(path, {"reason": "职能划转"})
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["review_note"]) == ("cancelled", "职能划转")


# --- history ------------------------------------------------------------------------------------

def test_history(client: Client, bureau: User, officer: User, stranger: User, citizen: User,
                 dept: Department) -> None:
    data = item_data(dept)
    publish(data, actor=bureau, note="首次发布")
    publish(with_changes(data, committed_limit=3), actor=bureau, note="压缩时限")
    services.item_save_draft(actor=officer, data=with_changes(data, name="新名称"), change_note="改名")
    path = f"/items/{data.implementation_code}/history"
    for user in (bureau, officer):
        response = Api(client, user).get(path)
        assert response.status_code == 200
        assert [(v["version"], v["status"], v["change_note"], v["committed_limit"])
                for v in response.json()] == [
            (3, "draft", "改名", 5), (2, "published", "压缩时限", 3), (1, "superseded", "首次发布", 5)]
    for user in (stranger, citizen):
        assert Api(client, user).get(path).status_code == 403
    assert Api(client, bureau).get("/items/NOSUCHCODE/history").status_code == 404
