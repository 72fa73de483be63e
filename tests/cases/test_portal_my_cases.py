"""Following one's cases in the portal: the list, a case's page with its timeline, the
one-time supplement notice with upload slots, the result, withdrawal and messages."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from tests.cases.conftest import PDF, TIME_LIMITED, form_for, item
from tongban.accounts.models import User
from tongban.cases import services
from tongban.cases.materials import case_material_add
from tongban.cases.models import Case, Channel, Notice, Status
from tongban.cases.notifications.models import Notification
from tongban.cases.services import ApplicantData, SupplementItem
from tongban.cases.workflows.models import StepTask

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = str(tmp_path)


def login(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def text(response: Any) -> str:
    return str(response.content.decode())


def upload(name: str = "a.pdf") -> io.BytesIO:
    data = io.BytesIO(PDF)
    data.name = name
    return data


def submitted(user: User, *, skip: int = 0, capture: Any = None) -> Case:
    """A submitted online case of ``user`` for the 限时办结 item, its first ``skip`` materials missing."""
    case = services.case_create(actor=user, item=item(TIME_LIMITED), channel=Channel.ONLINE,
                                applicant=ApplicantData(kind="natural_person", name=user.real_name,
                                                        id_number=user.id_number, phone=user.phone),
                                form_data=form_for(TIME_LIMITED))
    for m in list(case.item_version.materials.all())[skip:]:
        case_material_add(actor=user, case=case, material=m, name="", upload=upload(),
                          original_name="a.pdf")
    services.case_submit(actor=user, case=case)
    case.refresh_from_db()
    return case


@pytest.fixture
def citizen(people: dict[str, User], demo_forms: None) -> User:
    return people["citizen"]


def test_my_cases_lists_drafts_and_cases_with_due_dates(citizen: User, people: dict[str, User]) -> None:
    draft = services.case_create(actor=citizen, item=item(TIME_LIMITED), channel=Channel.ONLINE,
                                 applicant=ApplicantData(kind="natural_person", name="张三",
                                                         id_number=citizen.id_number),
                                 form_data=form_for(TIME_LIMITED))
    case = submitted(citizen)
    services.case_accept(actor=people["officer"], case=case)
    case.refresh_from_db()
    Case.objects.filter(pk=case.pk).update(due_provisional=True)
    submitted(people["other"])  # someone else's: not listed
    page = text(login(citizen).get("/my/cases/"))
    assert page.count('class="case-card status') == 2
    assert f'href="/my/cases/{draft.pk}/"' in page and "（草稿，提交后生成）" in page
    assert case.number is not None and case.due_at is not None
    assert f'href="/my/cases/{case.number}/"' in page and case.number in page
    assert "已受理（办理中）" in page and "草稿" in page
    due = case.due_at.astimezone(dt.timezone(dt.timedelta(hours=8))).strftime("%Y-%m-%d %H:%M")
    assert f"{due}（暂定）" in page
    assert 'class="mark mark-green"' in page


def test_case_page_timeline_and_access(citizen: User, people: dict[str, User]) -> None:
    case = submitted(citizen)
    services.case_accept(actor=people["officer"], case=case)
    page = text(login(citizen).get(f"/my/cases/{case.number}/"))
    assert "办理进度" in page
    for label in ("创建申请", "提交", "受理"):
        assert f'<span class="action">{label}</span>' in page
    assert "目前无需您操作" in page
    acceptance = case.notices.get(kind=Notice.Kind.ACCEPTANCE)
    assert f'href="/cases/{case.number}/notices/{acceptance.number}/"' in page
    event = case.events.get(action="submit")
    local = event.at.astimezone(dt.timezone(dt.timedelta(hours=8)))
    assert local.strftime("%Y-%m-%d %H:%M") in page  # Beijing time
    # Another applicant: 404, as if there were no such case; staff: 403 on the applicant's door.
    assert login(people["other"]).get(f"/my/cases/{case.number}/").status_code == 404
    assert login(people["officer"]).get(f"/my/cases/{case.number}/").status_code == 403
    assert login(citizen).get("/my/cases/99999999999999999999/").status_code == 404


def test_supplement_notice_upload_and_supply(citizen: User, people: dict[str, User]) -> None:
    case = submitted(citizen, skip=1)
    missing = case.item_version.materials.order_by("position").first()
    assert missing is not None
    notice = services.case_request_supplement(actor=people["officer"], case=case, items=[
        SupplementItem(name=missing.name, reason="未提交申请书", material_id=missing.pk),
        SupplementItem(name="场所平面图", reason="请补充经营场所平面图")])
    client = login(citizen)
    url = f"/my/cases/{case.number}/"
    page = text(client.get(url))
    assert "需要您做的" in page and notice.number in page
    assert "补正原因：未提交申请书" in page and "补正原因：请补充经营场所平面图" in page
    assert f'name="file_{missing.pk}"' in page and 'name="extra_1"' in page
    assert "补正完成" in page
    # 补正完成 before the files are in: refused, naming what is missing.
    response = client.post(f"{url}supply/", {"version": case.version + 1})
    assert response.status_code == 422 and "尚未补正：" in text(response) and missing.name in text(response)
    case.refresh_from_db()
    assert case.status == Status.SUPPLEMENT
    response = client.post(f"{url}materials/upload/", {"back": "case", f"file_{missing.pk}": upload(),
                                                       "extra_1": upload("图.pdf"),
                                                       "extra_name_1": "场所平面图"})
    assert response.status_code == 302 and response["Location"] == f"{url}#needed"
    page = text(client.get(url))
    assert page.count("✔</span> 已上传：") == 2
    case.refresh_from_db()
    response = client.post(f"{url}supply/", {"version": case.version})
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == Status.SUBMITTED
    assert case.notices.get(kind=Notice.Kind.SUPPLEMENT).resolved_at is not None


def test_a_refused_upload_on_the_case_page_is_named(citizen: User, people: dict[str, User]) -> None:
    case = submitted(citizen, skip=1)
    missing = case.item_version.materials.order_by("position").first()
    assert missing is not None
    services.case_request_supplement(actor=people["officer"], case=case, items=[
        SupplementItem(name=missing.name, reason="缺", material_id=missing.pk)])
    bad = io.BytesIO(b"GIF89a")
    bad.name = "x.pdf"
    response = login(citizen).post(f"/my/cases/{case.number}/materials/upload/",
                                   {"back": "case", f"file_{missing.pk}": bad})
    assert response.status_code == 422
    assert 'id="supply-0-error"' in text(response) and "只接受PDF、JPG、PNG或OFD文件" in text(response)


def test_withdraw_while_allowed(citizen: User, people: dict[str, User]) -> None:
    case = submitted(citizen)
    client = login(citizen)
    url = f"/my/cases/{case.number}/"
    assert "撤回申请" in text(client.get(url))
    # Someone else cannot withdraw it.
    assert login(people["other"]).post(f"{url}withdraw/", {"reason": "x"}).status_code == 404
    case.refresh_from_db()
    assert case.status == Status.SUBMITTED
    response = client.post(f"{url}withdraw/", {"reason": "不再开店", "version": case.version})
    assert response.status_code == 302
    case.refresh_from_db()
    assert (case.status, case.closed_reason) == (Status.WITHDRAWN, "不再开店")
    page = text(client.get(url))
    assert "撤回申请" not in page and "该办件已结束" in page and "不再开店" in page
    # Withdrawing again: refused, nothing changes.
    response = client.post(f"{url}withdraw/", {"reason": "again"})
    assert response.status_code == 409 and "不能执行“撤回”" in text(response)
    case.refresh_from_db()
    assert case.closed_reason == "不再开店" and case.events.filter(action="withdraw").count() == 1


def test_the_result_is_offered_once_decided(citizen: User, people: dict[str, User]) -> None:
    case = submitted(citizen)
    services.case_accept(actor=people["officer"], case=case)
    services.case_step(actor=people["officer"], task=StepTask.objects.get(case=case, status="open"),
                       action="approve")
    services.case_step(actor=people["head"], task=StepTask.objects.get(case=case, status="open"),
                       action="approve")
    services.case_deliver(actor=people["officer"], case=case, delivery="online")
    decision = case.notices.get(kind=Notice.Kind.DECISION)
    page = text(login(citizen).get(f"/my/cases/{case.number}/"))
    assert "您的申请已准予办理。" in page and "办理结果：食品经营许可证。" in page
    assert f'href="/cases/{case.number}/notices/{decision.number}/"' in page
    assert "撤回申请" not in page


def test_messages_unread_first_and_mark_read(citizen: User, people: dict[str, User]) -> None:
    old = Notification.objects.create(recipient=citizen, subject="旧消息", body="已读的")
    old.read_at = old.created_at
    old.save()
    new = Notification.objects.create(recipient=citizen, subject="新消息", body="未读的")
    theirs = Notification.objects.create(recipient=people["other"], subject="别人的", body="x")
    client = login(citizen)
    page = text(client.get("/my/messages/"))
    assert "1 条未读" in page and "别人的" not in page
    assert page.index("新消息") < page.index("旧消息")
    assert client.post(f"/my/messages/{theirs.pk}/read/").status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None
    assert client.post(f"/my/messages/{new.pk}/read/").status_code == 302
    new.refresh_from_db()
    assert new.read_at is not None
    assert "0 条未读" in text(client.get("/my/messages/"))
    assert login(people["clerk"]).get("/my/messages/").status_code == 403


def test_case_messages_are_shown_on_the_case(citizen: User, people: dict[str, User],
                                             django_capture_on_commit_callbacks: Any) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        case = submitted(citizen)
    assert Notification.objects.filter(recipient=citizen, case=case).exists()
    notification = Notification.objects.filter(recipient=citizen, case=case).first()
    assert notification is not None
    subject = notification.subject
    page = text(login(citizen).get(f"/my/cases/{case.number}/"))
    assert subject in page
