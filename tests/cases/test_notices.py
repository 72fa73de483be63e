"""Printable notices (告知文书) as the applicant and the handling staff read them, and nobody else."""

from __future__ import annotations

import datetime as dt
import html
import io
import re
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from tests.cases.conftest import PDF, SAME_DAY, TIME_LIMITED, form, item
from tests.conftest import Freeze
from tongban.accounts.models import User
from tongban.cases import services
from tongban.cases.materials import case_material_add
from tongban.cases.models import Case, Channel, Notice
from tongban.cases.notices import notice_url
from tongban.cases.services import AgentData, ApplicantData, SupplementItem
from tongban.cases.workflows.models import StepTask
from tongban.catalog.models import ItemVersion, Material
from tongban.clock.deadline import SHANGHAI

pytestmark = pytest.mark.django_db

MASKED_ID = "6201**********7770"  # 张三, 620102199003077770


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = str(tmp_path)


def applicant(user: User) -> ApplicantData:
    return ApplicantData(kind="natural_person", name=user.real_name, id_number=user.id_number,
                         phone=user.phone)


def submitted(user: User, code: str = TIME_LIMITED, *, skip: set[str] | None = None) -> Case:
    case = services.case_create(actor=user, item=item(code), channel=Channel.ONLINE,
                                applicant=applicant(user), form_data=form())
    for m in case.item_version.materials.all():
        if m.name not in (skip or set()):
            case_material_add(actor=user, case=case, material=m, name="", upload=io.BytesIO(PDF),
                              original_name="a.pdf")
    services.case_submit(actor=user, case=case)
    case.refresh_from_db()
    return case


def open_task(case: Case) -> StepTask:
    return StepTask.objects.get(case=case, status="open")


def read(client: Client, user: User | None, notice: Notice) -> tuple[int, str]:
    client.logout()
    if user is not None:
        client.force_login(user)
    response = client.get(notice_url(notice))
    return response.status_code, response.content.decode()


def facts(page: str) -> dict[str, str]:
    """The <dt>/<dd> pairs of the notice, as plain text."""
    pairs = re.findall(r"<dt>(.*?)</dt>\s*<dd[^>]*>(.*?)</dd>", page, flags=re.S)
    return {html.unescape(k): text(v) for k, v in pairs}


def text(fragment: str) -> str:
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", fragment))).strip()


def local(value: dt.datetime | None, fmt: str = "{d.year}年{d.month}月{d.day}日 {d:%H:%M}") -> str:
    assert value is not None
    return fmt.format(d=value.astimezone(SHANGHAI))


# --- the one-time supplement notice ----------------------------------------------------------

def test_one_time_notice_lists_every_item_with_its_reason(people: dict[str, User],
                                                          client: Client) -> None:
    citizen, officer = people["citizen"], people["officer"]
    case = submitted(citizen, skip={"营业执照", "告知承诺书"})
    notice = services.case_request_supplement(actor=officer, case=case, note="请于10日内补正", items=[
        SupplementItem(name="营业执照", reason="未提交营业执照复印件"),
        SupplementItem(name="告知承诺书", reason="未签字"),
        SupplementItem(name="《食品经营许可申请书》", reason="经营场所填写不完整，须填写到门牌号"),
    ])
    status, page = read(client, citizen, notice)
    assert status == 200
    assert "<h1 id=\"notice-title\">一次性告知书</h1>" in page
    assert f"文书编号：{notice.number}" in page and notice.number == f"BZ{case.number}-1"
    assert facts(page) == {
        "办件编号": case.number, "申请事项": "食品经营许可（新办）", "申请人": "张三（自然人）",
        "公民身份号码": MASKED_ID, "申请时间": local(case.submitted_at)}
    assert "620102199003077770" not in page
    rows = re.findall(r"<tr><td>(\d+)</td><th scope=\"row\">(.*?)</th><td>(.*?)</td></tr>", page)
    assert rows == [("1", "营业执照", "未提交营业执照复印件"), ("2", "告知承诺书", "未签字"),
                    ("3", "《食品经营许可申请书》", "经营场所填写不完整，须填写到门牌号")]
    body = text(page)
    assert (f"你（单位）提出的“食品经营许可（新办）”申请（办件编号：{case.number}），经审查，"
            "申请材料不齐全或者不符合法定形式。现将需要补正的全部内容一次性告知如下：") in body
    assert "说明：请于10日内补正" in body
    assert "材料补齐前本申请尚未受理，办理时限不开始计算" in body
    assert "到窗口办理的，请携带材料到兰州市政务服务中心二楼市场监管综合窗口。" in body
    assert "咨询电话：0931-8619275；监督投诉电话：0931-8702163" in body
    signature = text(page.split('<footer class="signature">')[1].split("</footer>")[0])
    issued = local(notice.issued_at, "{d.year}年{d.month}月{d.day}日")
    assert signature == f"兰州市市场监督管理局 （印章） {issued}"


def test_supplement_after_acceptance_says_the_clock_stops(people: dict[str, User],
                                                          client: Client) -> None:
    citizen, officer = people["citizen"], people["officer"]
    case = submitted(citizen)
    services.case_accept(actor=officer, case=case)
    notice = services.case_request_supplement(
        actor=officer, case=case, task=open_task(case),
        items=[SupplementItem(name="从业人员健康证明", reason="健康证明已过期")])
    _status, page = read(client, citizen, notice)
    assert "本申请已受理：补正期间暂停计算办理时限，材料补齐后恢复计时" in text(page)


# --- acceptance ------------------------------------------------------------------------------

def test_acceptance_notice_gives_the_due_date(people: dict[str, User], client: Client) -> None:
    citizen, officer = people["citizen"], people["officer"]
    case = submitted(citizen)
    services.case_accept(actor=officer, case=case)
    case.refresh_from_db()
    notice = case.notices.get(kind=Notice.Kind.ACCEPTANCE)
    assert not case.due_provisional
    status, page = read(client, citizen, notice)
    assert status == 200
    details = facts(page)
    assert (details["受理时间"], details["承诺办结时限"], details["办结期限"]) == (
        local(case.accepted_at), "3个工作日", local(case.due_at))
    assert local(case.due_at).endswith("17:30")  # close of the office day, Beijing time
    body = text(page)
    assert "经审查，申请材料齐全、符合法定形式，本机关决定予以受理。" in body
    assert f"本机关承诺的办结时限为3个工作日，将于 {local(case.due_at)} 前作出决定。" in body
    assert "暂定" not in body


def test_a_provisional_due_date_is_marked(people: dict[str, User], client: Client,
                                          freeze: Freeze) -> None:
    citizen, officer = people["citizen"], people["officer"]
    case = submitted(citizen)
    # Accepted on 30 December 2026: the due day falls in 2027, whose holidays are not published.
    freeze(dt.datetime(2026, 12, 30, 10, 0, tzinfo=SHANGHAI))
    services.case_accept(actor=officer, case=case)
    case.refresh_from_db()
    assert case.due_provisional
    _status, page = read(client, citizen, case.notices.get(kind=Notice.Kind.ACCEPTANCE))
    assert facts(page)["办结期限"] == "2027年1月5日 17:30 （暂定）"
    assert "暂定：该期限涉及国务院尚未公布法定节假日安排的年份" in text(page)


def test_acceptance_with_a_promise_lists_the_promised_material(people: dict[str, User],
                                                               client: Client) -> None:
    citizen, officer = people["citizen"], people["officer"]
    case = submitted(citizen, skip={"从业人员健康证明"})
    health = case.item_version.materials.get(necessity=Material.Necessity.DEFERRABLE)
    services.case_material_promise(actor=citizen, case=case, material=health, promise="领证前补交",
                                   promised_by=dt.date(2099, 1, 31))
    services.case_accept(actor=officer, case=case)
    _status, page = read(client, citizen, case.notices.get(kind=Notice.Kind.ACCEPTANCE))
    body = text(page)
    assert "从业人员健康证明（承诺于2099年1月31日前补交）" in body
    assert "容缺材料补交前，办理结果不予送达。" in body


# --- refusal ---------------------------------------------------------------------------------

def test_refusal_notice_for_a_company_with_an_agent(people: dict[str, User], client: Client) -> None:
    clerk, citizen = people["clerk"], people["citizen"]
    case = services.case_create(
        actor=clerk, item=item(SAME_DAY), channel=Channel.WINDOW,
        applicant=ApplicantData(kind="legal_person", name="兰州示例餐饮有限公司",
                                id_number="91620102MA7123456T"),
        agent=AgentData(name="张三", id_number="620102199003077770", authorization="授权委托书（2026年）",
                        user=citizen),
        form_data=form())
    services.case_submit(actor=clerk, case=case)
    notice = services.case_refuse(actor=clerk, case=case, reason="该企业不在本机关登记管辖范围内")
    status, page = read(client, citizen, notice)
    assert status == 200
    assert notice.number.startswith("BY")
    details = facts(page)
    assert {k: details[k] for k in ("申请人", "统一社会信用代码", "代理人", "代理人公民身份号码")} == {
        "申请人": "兰州示例餐饮有限公司（法人）", "统一社会信用代码": "91620102MA7123456T",
        "代理人": "张三", "代理人公民身份号码": MASKED_ID}
    body = text(page)
    assert "<h1 id=\"notice-title\">不予受理通知书</h1>" in page
    assert "经审查，本机关决定不予受理。" in body
    assert "理由：该企业不在本机关登记管辖范围内" in body
    assert ("如对本决定不服，可以自收到本文书之日起六十日内依法申请行政复议，"
            "或者自收到本文书之日起六个月内依法向人民法院提起行政诉讼。") in body


def test_refusal_uses_the_items_own_review_route(people: dict[str, User], client: Client) -> None:
    citizen, officer = people["citizen"], people["officer"]
    case = submitted(citizen)
    route = "可在六十日内向兰州市人民政府申请行政复议，或在六个月内向城关区人民法院提起行政诉讼。"
    ItemVersion.objects.filter(pk=case.item_version_id).update(review_route=route)
    notice = services.case_refuse(actor=officer, case=case, reason="经营场所位于居民住宅楼内")
    body = text(read(client, citizen, notice)[1])
    assert route in body and "六十日内依法申请行政复议" not in body


# --- special procedure, extension, decision --------------------------------------------------

def test_suspension_notice_gives_reason_and_expected_duration(people: dict[str, User],
                                                              client: Client) -> None:
    citizen, officer = people["citizen"], people["officer"]
    case = submitted(citizen)
    services.case_accept(actor=officer, case=case)
    services.case_suspend(actor=officer, task=open_task(case), procedure="inspection",
                          reason="需现场核查经营场所", expected_working_days=5)
    notice = case.notices.get(kind=Notice.Kind.SUSPENSION)
    status, page = read(client, citizen, notice)
    assert status == 200 and notice.number.startswith("TB")
    details = facts(page)
    assert (details["暂停计时起始"], details["预计所需时间"]) == (local(notice.issued_at), "5个工作日")
    body = text(page)
    assert "特别程序事由：需现场核查经营场所" in body
    assert "特别程序预计需要5个工作日，所需时间不计入办理时限。" in body


def test_extension_notice_gives_reason_and_new_due_date(people: dict[str, User],
                                                        client: Client) -> None:
    citizen, officer, head = people["citizen"], people["officer"], people["head"]
    case = submitted(citizen)
    services.case_accept(actor=officer, case=case)
    extension = services.case_request_extension(actor=officer, task=open_task(case), working_days=5,
                                                reason="需征求卫生健康部门意见")
    services.case_decide_extension(actor=head, extension=extension, approve=True)
    case.refresh_from_db()
    notice = case.notices.get(kind=Notice.Kind.EXTENSION)
    _status, page = read(client, citizen, notice)
    details = facts(page)
    assert (details["延长期限"], details["延长后的办结期限"]) == ("5个工作日", local(case.due_at))
    body = text(page)
    assert "延期理由：需征求卫生健康部门意见" in body
    assert f"经本机关负责人批准，办理期限延长5个工作日。延长后的办结期限为 {local(case.due_at)} 。" in body


def test_decision_notices(people: dict[str, User], client: Client) -> None:
    citizen, officer, head = people["citizen"], people["officer"], people["head"]
    case = submitted(citizen)
    services.case_accept(actor=officer, case=case)
    services.case_step(actor=officer, task=open_task(case), action="approve")
    services.case_step(actor=head, task=open_task(case), action="approve", reason="现场核查合格")
    approval = case.notices.get(kind=Notice.Kind.DECISION)
    _status, page = read(client, citizen, approval)
    assert {k: v for k, v in facts(page).items() if k in ("办理决定", "办理结果")} == {
        "办理决定": "准予办理", "办理结果": "食品经营许可证"}
    body = text(page)
    assert "经审查，符合法定条件、标准，本机关决定准予办理。" in body
    assert "审查意见：现场核查合格" in body and "救济途径" not in body

    denied = submitted(citizen, SAME_DAY)
    services.case_accept(actor=officer, case=denied)
    services.case_step(actor=officer, task=open_task(denied), action="approve")
    services.case_step(actor=head, task=open_task(denied), action="deny", reason="变更决议未经股东会表决")
    _status, page = read(client, citizen, denied.notices.get(kind=Notice.Kind.DECISION))
    assert facts(page)["办理决定"] == "不予办理"
    body = text(page)
    assert "本机关决定不予办理。" in body and "理由：变更决议未经股东会表决" in body
    assert "救济途径" in body


# --- who may read a notice -------------------------------------------------------------------

def test_only_the_applicant_side_and_staff_who_may_view_read_it(people: dict[str, User],
                                                                client: Client) -> None:
    citizen, officer = people["citizen"], people["officer"]
    case = submitted(citizen)
    notice = services.case_refuse(actor=officer, case=case, reason="材料虚假")
    assert read(client, citizen, notice)[0] == 200
    assert read(client, officer, notice)[0] == 200  # the handling department
    for outsider in (people["other"], people["hr_officer"], people["proxy"]):
        status, page = read(client, outsider, notice)
        assert status == 404 and "材料虚假" not in page and str(case.number) not in page
    client.logout()
    response = client.get(notice_url(notice))
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/?next=")

    # A notice number under another case's number is not found either.
    other_case = submitted(citizen, SAME_DAY)
    client.force_login(citizen)
    assert client.get(f"/cases/{other_case.number}/notices/{notice.number}/").status_code == 404
    assert client.get(f"/cases/{case.number}/notices/NOPE/").status_code == 404


def test_notice_page_is_not_cached(people: dict[str, User], client: Client) -> None:
    citizen, officer = people["citizen"], people["officer"]
    notice = services.case_refuse(actor=officer, case=submitted(citizen), reason="材料虚假")
    client.force_login(citizen)
    response = client.get(notice_url(notice))
    assert "no-store" in response["Cache-Control"] and "private" in response["Cache-Control"]


def test_a_staff_read_of_a_notice_page_or_pdf_is_audited(people: dict[str, User],
                                                         client: Client) -> None:
    from tongban.audit.models import AuditRecord

    citizen, officer = people["citizen"], people["officer"]
    case = submitted(citizen)
    notice = services.case_refuse(actor=officer, case=case, reason="材料虚假")
    pdf_url = f"/cases/{case.number}/notices/{notice.number}/pdf/"

    def reads() -> list[tuple[int | None, str, str, dict[str, Any]]]:
        return list(AuditRecord.objects.filter(action__startswith="case.notice_")
                    .order_by("seq").values_list("actor_id", "action", "object_id", "detail"))

    # The applicant's own reads are not audited.
    assert read(client, citizen, notice)[0] == 200
    assert client.get(pdf_url).status_code == 200
    assert reads() == []

    assert read(client, officer, notice)[0] == 200
    assert client.get(pdf_url).status_code == 200
    assert reads() == [
        (officer.pk, "case.notice_viewed", case.number, {"notice": notice.number}),
        (officer.pk, "case.notice_downloaded", case.number, {"notice": notice.number}),
    ]
    # Someone who may not see it gets 404 and nothing is recorded for them.
    assert read(client, people["hr_officer"], notice)[0] == 404
    assert len(reads()) == 2
