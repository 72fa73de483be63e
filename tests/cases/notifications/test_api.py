"""GET /api/v1/notifications and marking messages read: one's own messages only."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from tests.conftest import make_user
from tongban.accounts.models import Role, User
from tongban.cases.notifications.models import Notification

pytestmark = pytest.mark.django_db


@pytest.fixture
def zhang(db: None) -> User:
    return make_user("zhang", Role.CITIZEN, id_number="620102199003077770")


@pytest.fixture
def li(db: None) -> User:
    return make_user("li", Role.CITIZEN, id_number="620102199003070018")


def bearer(issue_token: Callable[[User], str], user: User) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(user)}"}


def message(user: User, subject: str, **extra: Any) -> Notification:
    return Notification.objects.create(recipient=user, subject=subject, body=subject + "。", **extra)


def test_lists_my_messages_newest_first_with_the_unread_count(
    client: Client, zhang: User, li: User, issue_token: Callable[[User], str]
) -> None:
    first = message(zhang, "您的申请已提交")
    second = message(zhang, "您的申请已受理")
    message(li, "李的消息")
    response = client.get("/api/v1/notifications", headers=bearer(issue_token, zhang))
    assert response.status_code == 200
    body = response.json()
    assert (body["total"], body["unread"], body["limit"], body["offset"]) == (2, 2, 20, 0)
    assert [(i["id"], i["subject"], i["read"], i["read_at"]) for i in body["items"]] == [
        (second.pk, "您的申请已受理", False, None), (first.pk, "您的申请已提交", False, None)]
    assert body["items"][0]["created_at"].endswith("+08:00")
    assert (body["items"][0]["kind"], body["items"][0]["case_number"]) == ("case", None)


def test_marking_read_answers_the_message_and_the_unread_filter_leaves_it_out(
    client: Client, zhang: User, issue_token: Callable[[User], str]
) -> None:
    auth = bearer(issue_token, zhang)
    read = message(zhang, "您的申请已提交")
    unread = message(zhang, "您的申请已受理")
    response = client.post(f"/api/v1/notifications/{read.pk}/read", headers=auth)
    assert response.status_code == 200
    assert (response.json()["id"], response.json()["read"]) == (read.pk, True)
    assert response.json()["read_at"].endswith("+08:00")
    first_read_at = Notification.objects.get(pk=read.pk).read_at
    # Reading it again keeps the first time.
    again = client.post(f"/api/v1/notifications/{read.pk}/read", headers=auth)
    assert again.status_code == 200
    assert Notification.objects.get(pk=read.pk).read_at == first_read_at

    body = client.get("/api/v1/notifications?unread=true", headers=auth).json()
    assert (body["total"], body["unread"]) == (1, 1)
    assert [i["id"] for i in body["items"]] == [unread.pk]


def test_someone_elses_message_is_not_found_and_stays_unread(
    client: Client, zhang: User, li: User, issue_token: Callable[[User], str]
) -> None:
    theirs = message(li, "李的消息")
    response = client.post(f"/api/v1/notifications/{theirs.pk}/read",
                           headers=bearer(issue_token, zhang))
    assert response.status_code == 404
    assert response.json() == {"detail": "没有这条消息"}
    assert Notification.objects.get(pk=theirs.pk).read_at is None


def test_mark_all_read_touches_only_my_unread_messages(
    client: Client, zhang: User, li: User, issue_token: Callable[[User], str]
) -> None:
    for subject in ("一", "二", "三"):
        message(zhang, subject)
    theirs = message(li, "李的消息")
    response = client.post("/api/v1/notifications/read-all", headers=bearer(issue_token, zhang))
    assert response.json() == {"marked": 3}
    assert not Notification.objects.filter(recipient=zhang, read_at=None).exists()
    assert Notification.objects.get(pk=theirs.pk).read_at is None


def test_paging(client: Client, zhang: User, issue_token: Callable[[User], str]) -> None:
    made = [message(zhang, f"消息{n}") for n in range(5)]
    body = client.get("/api/v1/notifications?limit=2&offset=2", headers=bearer(issue_token, zhang)).json()
    assert body["total"] == 5
    assert [i["id"] for i in body["items"]] == [made[2].pk, made[1].pk]
    assert client.get("/api/v1/notifications?limit=0",
                      headers=bearer(issue_token, zhang)).status_code == 422


def test_without_login_the_inbox_is_closed(client: Client, zhang: User) -> None:
    mine = message(zhang, "您的申请已提交")
    assert client.get("/api/v1/notifications").status_code == 401
    assert client.post(f"/api/v1/notifications/{mine.pk}/read").status_code == 401
    assert Notification.objects.get(pk=mine.pk).read_at is None


def test_the_session_of_a_logged_in_page_works_too(client: Client, zhang: User) -> None:
    message(zhang, "您的申请已提交")
    client.force_login(zhang)
    assert client.get("/api/v1/notifications").json()["unread"] == 1
