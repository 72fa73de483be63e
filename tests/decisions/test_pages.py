"""The pages of 秒批: the findings panel on the staff case page, the explanation and 申请人工复核
on the applicant's case page, the bureau's rule sets (import refusing a bad file whole,
export, publish, retire) and the figures."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from tests.cases.conftest import SAME_DAY, ApiClient, item
from tests.decisions.conftest import data
from tongban.accounts.models import User
from tongban.audit.models import AuditRecord
from tongban.cases.models import Status
from tongban.decisions.models import AutoDecision, RuleSet, RuleSetStatus
from tongban.decisions.services.rule_sets import rule_set_export, rule_set_save

pytestmark = pytest.mark.django_db


def logged_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def panel(html: str, start: str = 'class="card auto-decision"') -> str:
    """The automatic decision's section of a page."""
    assert start in html
    return html.split(start, 1)[1].split("</section>", 1)[0]


def test_the_staff_case_page_shows_the_findings_with_personal_inputs_masked(
        people: dict[str, User], rules: RuleSet, submit: Any) -> None:
    case = submit(people["citizen"], contact_phone="0931-8123456")
    html = logged_in(people["officer"]).get(f"/workbench/cases/{case.number}/").content.decode()
    shown = panel(html)
    assert "企业变更登记秒批规则（第1版）" in shown and "转人工办理" in shown
    assert "不符合</span>联系电话为手机号码" in shown and "符合</span>已写明申请事由" in shown
    assert "620102199003077770" not in shown and "6201**********7770" in shown
    assert "张*" in shown and "0931-8123456" not in shown  # the phone field is masked
    # Another department's officer does not see the case at all.
    assert logged_in(people["hr_officer"]).get(
        f"/workbench/cases/{case.number}/").status_code in (403, 404)


def test_the_applicant_sees_the_explanation_and_asks_for_a_human_review(
        people: dict[str, User], rules: RuleSet, submit: Any) -> None:
    case = submit(people["citizen"])
    assert case.status == Status.DELIVERED
    citizen = logged_in(people["citizen"])
    url = f"/my/cases/{case.number}/"
    shown = panel(citizen.get(url).content.decode())
    assert "自动审查" in shown and "企业变更登记秒批规则" in shown
    assert "符合</span>联系电话为手机号码" in shown
    assert f'action="/decisions/cases/{case.number}/human-review/"' in shown
    # Without a reason: refused, nothing changes, the reason asked for.
    answer = citizen.post(f"/decisions/cases/{case.number}/human-review/", {"reason": " "},
                          follow=True)
    assert "须填写理由" in answer.content.decode()
    assert AutoDecision.objects.get(case=case).review_requested_at is None
    # Another applicant cannot.
    assert logged_in(people["other"]).post(f"/decisions/cases/{case.number}/human-review/",
                                           {"reason": "x"}).status_code == 404
    answer = citizen.post(f"/decisions/cases/{case.number}/human-review/",
                          {"reason": "请工作人员审查", "version": case.version})
    assert answer.status_code == 302
    case.refresh_from_db()
    assert case.status == Status.ACCEPTED
    shown = panel(citizen.get(url).content.decode())
    assert "申请人工复核" in shown and "human-review" not in shown  # asked once; no second form


def test_a_referred_case_tells_the_applicant_it_went_to_a_human_without_a_review_button(
        people: dict[str, User], rules: RuleSet, submit: Any) -> None:
    case = submit(people["citizen"], contact_phone="0931-8123456")
    shown = panel(logged_in(people["citizen"]).get(f"/my/cases/{case.number}/").content.decode())
    assert "转人工办理" in shown and "不符合</span>联系电话为手机号码" in shown
    assert "human-review" not in shown


def test_the_bureau_imports_publishes_exports_and_retires_rule_sets(
        people: dict[str, User], admin: User) -> None:
    bureau = logged_in(admin)
    assert bureau.get("/decisions/rule-sets/").status_code == 200
    file = rule_set_export(rule_set_save(actor=admin, item=item(SAME_DAY), data=data()))
    RuleSet.objects.all().delete()
    # A bad file is refused whole, with each problem named, and nothing is saved.
    bad: dict[str, Any] = json.loads(json.dumps(file))
    bad["nodes"][1]["content"]["expressions"][0]["value"] = "form.contact_phone +* 1"
    bad["tongban"]["tests"] = []
    answer = bureau.post("/decisions/rule-sets/import/", {
        "item": SAME_DAY, "file": upload(json.dumps(bad, ensure_ascii=False))})
    assert answer.status_code == 422
    html = answer.content.decode()
    assert "文件未导入" in html and "jdm.nodes[1].content.expressions[0].value" in html
    assert "规则须至少有一个测试用例" in html and not RuleSet.objects.exists()
    answer = bureau.post("/decisions/rule-sets/import/", {"item": SAME_DAY,
                                                          "file": upload("{not json")})
    assert answer.status_code == 422 and "不是有效的 JSON" in answer.content.decode()
    # A good one becomes the draft; publishing runs its tests.
    answer = bureau.post("/decisions/rule-sets/import/", {
        "item": SAME_DAY, "file": upload(json.dumps(file, ensure_ascii=False))})
    assert answer.status_code == 302
    draft = RuleSet.objects.get()
    assert draft.status == RuleSetStatus.DRAFT
    assert "运行测试并发布" in bureau.get("/decisions/rule-sets/").content.decode()
    assert bureau.post(f"/decisions/rule-sets/{draft.pk}/publish/").status_code == 302
    assert RuleSet.objects.get().status == RuleSetStatus.PUBLISHED
    exported = bureau.get(f"/decisions/rule-sets/{draft.pk}/export.json")
    assert exported["Content-Disposition"].startswith("attachment")
    assert json.loads(exported.content)["tongban"]["conditions"] == file["tongban"]["conditions"]
    # Retiring needs a reason.
    answer = bureau.post(f"/decisions/rule-sets/{draft.pk}/retire/", {"reason": ""})
    assert answer.status_code == 422 and "须填写停用理由" in answer.content.decode()
    assert bureau.post(f"/decisions/rule-sets/{draft.pk}/retire/",
                       {"reason": "政策调整"}).status_code == 302
    assert RuleSet.objects.get().status == RuleSetStatus.RETIRED
    # Heads read; they do not import or publish; applicants do not see the page.
    head = logged_in(people["head"])
    html = head.get("/decisions/rule-sets/").content.decode()
    assert "导入规则文件" not in html and "导出" in html
    assert head.post(f"/decisions/rule-sets/{draft.pk}/publish/").status_code == 403
    assert logged_in(people["citizen"]).get("/decisions/rule-sets/").status_code == 403


def test_the_figures_page(people: dict[str, User], rules: RuleSet, submit: Any) -> None:
    submit(people["citizen"])
    submit(people["citizen"], contact_phone="0931-8123456")
    html = logged_in(people["head"]).get("/decisions/figures/").content.decode()
    assert "企业变更登记" in html and "50.0%" in html
    assert logged_in(people["officer"]).get("/decisions/figures/").status_code == 200


def test_the_retire_endpoint(people: dict[str, User], rules: RuleSet, api: Any,
                             admin: User) -> None:
    assert api("head").post(f"/decision-rule-sets/{rules.pk}/retire",
                            {"reason": "x"}).status_code == 403
    bureau = ApiClient(admin.username)
    answer = bureau.post(f"/decision-rule-sets/{rules.pk}/retire", {"reason": " "})
    assert answer.status_code == 422 and answer.json()["detail"][0]["field"] == "reason"
    answer = bureau.post(f"/decision-rule-sets/{rules.pk}/retire", {"reason": "政策调整"})
    assert answer.status_code == 200 and answer.json()["status"] == "retired"
    assert bureau.post(f"/decision-rule-sets/{rules.pk}/retire",
                       {"reason": "again"}).status_code == 422
    assert bureau.post("/decision-rule-sets/999999/retire", {"reason": "x"}).status_code == 404
    assert AuditRecord.objects.filter(action="rule_set.retired").count() == 1


def upload(text: str) -> Any:
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("rules.json", text.encode("utf-8"), content_type="application/json")
