"""Bad input through the case API: a 422 naming the field, and nothing saved."""

from __future__ import annotations

import io
from typing import Any

import pytest

from tests.cases.conftest import (
    TIME_LIMITED,
    api_create,
    api_upload_all,
    applicant_body,
    form,
    named_pdf,
)
from tongban.accounts.models import User
from tongban.cases.models import Case, CaseEvent, CaseMaterial, Extension, Notice

pytestmark = pytest.mark.django_db


def problems(response: Any) -> list[tuple[str, str]]:
    assert response.status_code == 422, response.content
    return [(p["field"], p["message"]) for p in response.json()["detail"]]


# The ``citizen`` persona (张三) applying for themself.
SELF = {"kind": "natural_person", "name": "张三", "id_number": "620102199003077770",
        "phone": "13893100001"}


def create_body(**changes: Any) -> dict[str, Any]:
    body = {"item": TIME_LIMITED, "channel": "online", "applicant": dict(SELF),
            "form_data": form()}
    body.update(changes)
    return body


@pytest.mark.parametrize(("changes", "expected"), [
    ({"applicant": {**SELF, "id_number": "620102199003077771"}},
     [("applicant.id_number", "公民身份号码末位校验码与前17位不符，请核对号码")]),
    ({"applicant": {**SELF, "kind": "legal_person"}},
     [("applicant.id_number", "统一社会信用代码无效"),
      ("applicant.kind", "网上申请的申请人须为账户本人；为他人申请，须以代理人身份提交并提供授权委托说明")]),
    ({"applicant": {**SELF, "name": "  "}}, [("applicant.name", "申请人姓名/名称不能为空")]),
    ({"item": "00000000000000000000000000000X"},
     [("item", "没有实施编码为“00000000000000000000000000000X”的事项")]),
    ({"channel": "fax"}, [("channel", "申请渠道无效")]),
    ({"agent": {"name": "张三", "id_number": "620102199003077770", "authorization": ""}},
     [("agent.authorization", "代理办理须提供授权委托说明")]),
])
def test_creating_with_bad_input_names_the_field(api: Any, changes: dict[str, Any],
                                                 expected: list[tuple[str, str]]) -> None:
    assert problems(api("citizen").post("/cases", create_body(**changes))) == expected
    assert Case.objects.count() == 0


def test_bad_form_data_names_the_form_field(api: Any) -> None:
    body = create_body(form_data={"contact_phone": "12345", "purpose": "", "colour": "红"})
    found = dict(problems(api("citizen").post("/cases", body)))
    assert set(found) == {"form.colour", "form.contact_phone", "form.purpose"}
    assert found["form.purpose"] == "“申请事由”为必填项"
    assert Case.objects.count() == 0


def test_a_malformed_request_names_the_field(api: Any) -> None:
    body = create_body()
    del body["applicant"]
    response = api("citizen").post("/cases", body)
    assert response.status_code == 422
    assert [e["loc"] for e in response.json()["detail"]] == [["body", "payload", "applicant"]]
    response = api("citizen").post("/cases", create_body(), headers={"Idempotency-Key": "x" * 65})
    assert problems(response) == [("idempotency_key", "幂等键不能超过64个字符")]
    assert Case.objects.count() == 0


def test_bad_actions_name_the_field_and_change_nothing(api: Any, people: dict[str, User]) -> None:
    citizen, officer = api("citizen"), api("officer")
    case = api_upload_all(citizen, api_create(citizen, TIME_LIMITED,
                                              applicant=applicant_body(people["citizen"])))
    # Uploads: content decides the type; the material must be the item's; a name is needed.
    fake = io.BytesIO(b"MZ\x90\x00 this is no PDF")
    fake.name = "scan.pdf"
    path = f"/cases/{case['id']}/materials"
    assert problems(citizen.upload(path, {"material": case["checklist"][0]["material_id"],
                                          "file": fake})) == [
        ("file", "只接受PDF、JPG、PNG或OFD文件（按文件内容判断，与文件名无关）")]
    assert problems(citizen.upload(path, {"material": 999999, "file": named_pdf("x")})) == [
        ("material", "材料不存在")]
    assert problems(citizen.upload(path, {"file": named_pdf("x")})) == [("name", "须填写材料名称")]
    uploaded = CaseMaterial.objects.filter(case_id=case["id"]).count()

    case = citizen.post(f"/cases/{case['id']}/submit").json()
    number = case["number"]
    assert problems(officer.post(f"/cases/{number}/refuse", {"reason": " "})) == [
        ("reason", "须填写理由")]
    assert problems(officer.post(f"/cases/{number}/supplement", {"items": []})) == [
        ("items", "一次性告知须列出全部需补正的材料")]
    assert problems(officer.post(f"/cases/{number}/supplement", {"items": [
        {"name": "申请书", "reason": "缺页"}, {"name": "营业执照", "reason": ""}]})) == [
        ("items[1].reason", "须说明补正原因")]
    assert problems(officer.post(f"/cases/{number}/accept", {"window": 424242})) == [
        ("window", "窗口不存在")]
    # A version the case never had is a mistake of the caller's (409 says someone acted first).
    assert problems(officer.post(f"/cases/{number}/accept",
                                 {"expected_version": case["version"] + 5})) == [
        ("expected_version", f"版本号{case['version'] + 5}无效：该办件当前为版本{case['version']}")]
    response = officer.post(f"/cases/{number}/refuse", {})
    assert response.status_code == 422
    assert [e["loc"][-1] for e in response.json()["detail"]] == ["reason"]

    stored = Case.objects.get(pk=case["id"])
    assert (stored.status, stored.version) == ("submitted", case["version"])
    assert CaseMaterial.objects.filter(case=stored).count() == uploaded
    assert not Notice.objects.filter(case=stored).exists()
    assert CaseEvent.objects.filter(case=stored).count() == 2

    case = officer.post(f"/cases/{number}/accept").json()
    [task] = [t for t in case["tasks"] if t["status"] == "open"]
    assert problems(officer.post(f"/tasks/{task['id']}/extension",
                                 {"working_days": 11, "reason": "需专家论证"})) == [
        ("working_days", "延期须为1至10个工作日")]
    assert problems(officer.post(f"/tasks/{task['id']}/act", {"action": "deny", "reason": "x"})) == [
        ("action", "环节“审查”不允许此操作")]
    assert problems(officer.post(f"/tasks/{task['id']}/suspend", {"reason": ""})) == [
        ("procedure", "须选择特别程序种类：听证、招标、拍卖、检验、检测、检疫、鉴定、专家评审"),
        ("reason", "须填写理由"),
        ("expected_working_days", "须书面告知特别程序所需时间：填写1至365个工作日")]
    assert not Extension.objects.exists()
    assert problems(officer.post(f"/cases/{number}/visits", {"purpose": ""})) == [
        ("purpose", "须填写跑动事由")]
    assert Case.objects.get(pk=case["id"]).version == case["version"]


def test_bad_list_filters_name_the_parameter(api: Any) -> None:
    assert problems(api("officer").get("/cases", {"status": "accepted,flying"})) == [
        ("status", "未知的办件状态：flying；可用：draft、submitted、pre_review、supplement、accepted、"
                   "suspended、halted、approved、denied、delivered、refused、withdrawn、terminated")]
    assert problems(api("officer").get("/cases", {"deadline_state": "blue"})) == [
        ("deadline_state", "时限状态须为green、yellow或red")]
    response = api("officer").get("/cases", {"page_size": 1000})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "page_size"]
