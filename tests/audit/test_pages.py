"""The supervisors' audit log pages and the public checkpoint key page."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.db import transaction
from django.test import Client

from tests.audit.conftest import set_detail, sql
from tests.conftest import make_user
from tongban.accounts.models import Role, User
from tongban.audit.models import AuditRecord, AuditVerification
from tongban.audit.services import audit_checkpoint_write, audit_record

BJ = ZoneInfo("Asia/Shanghai")


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def supervisor(db: None) -> User:
    return make_user("jiancha", Role.SUPERVISOR, real_name="赵监察")


@pytest.fixture
def log(db: None, citizen: User, sealed: Callable[[], int]) -> list[AuditRecord]:
    """Five records, sealed: two by the citizen on cases, three by the system on the catalog."""
    made = []
    for actor, action, object_type, object_id in [
        (citizen, "case.submitted", "case", "TB001"), (None, "catalog.published", "item", "1162"),
        (citizen, "case.withdrawn", "case", "TB001"), (None, "catalog.published", "item", "1163"),
        (None, "calendar.imported", "calendar", "2026"),
    ]:
        with transaction.atomic():
            made.append(audit_record(actor=actor, action=action, object_type=object_type,
                                     object_id=object_id, detail={"理由": "测试", "n": 1}))
    sealed()
    for record in made:
        record.refresh_from_db()
    return made


def listed_seqs(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'<th scope="row"><a href="/supervision/audit/records/(\d+)/">', html)]


def test_a_supervisor_browses_the_log_newest_first(supervisor: User, log: list[AuditRecord]) -> None:
    response = client_for(supervisor).get("/supervision/audit/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "<h1>审计日志</h1>" in html
    assert listed_seqs(html) == [5, 4, 3, 2, 1]
    assert "citizen <span class=\"code\">(citizen)</span>" in html  # who acted is shown
    # Reading the log was itself recorded, after the page's query.
    viewed = AuditRecord.objects.get(seq=6)
    assert (viewed.action, viewed.actor_id, viewed.object_type) == ("audit.view", supervisor.pk, "audit_log")
    assert viewed.detail == {"what": "list", "filters": {}}


@pytest.mark.parametrize(("query", "expected"), [
    ({"action": "case."}, [3, 1]),
    ({"actor": "citizen"}, [3, 1]),
    ({"actor": "system"}, [5, 4, 2]),
    ({"object_type": "item"}, [4, 2]),
    ({"object_type": "case", "object_id": "TB001"}, [3, 1]),
    ({"action": "catalog.published", "object_id": "1163"}, [4]),
])
def test_filters(supervisor: User, log: list[AuditRecord], query: dict[str, str],
                 expected: list[int]) -> None:
    html = client_for(supervisor).get("/supervision/audit/", query).content.decode()
    assert listed_seqs(html) == expected
    recorded = AuditRecord.objects.filter(action="audit.view").get()
    assert recorded.detail["filters"] == {k: v for k, v in query.items()}


def test_the_time_range_is_read_in_beijing_time(supervisor: User, log: list[AuditRecord]) -> None:
    # Record #3 at 2026-03-02 08:30 Beijing time = 00:30 UTC; the others a day earlier.
    when = dt.datetime(2026, 3, 2, 0, 30, tzinfo=dt.UTC)
    sql("UPDATE audit_auditrecord SET at = %s WHERE seq <> 3", [when - dt.timedelta(days=1)])
    sql("UPDATE audit_auditrecord SET at = %s WHERE seq = 3", [when])

    client = client_for(supervisor)
    html = client.get("/supervision/audit/", {"since": "2026-03-02T08:00",
                                              "until": "2026-03-02T09:00"}).content.decode()
    assert listed_seqs(html) == [3]
    assert "2026-03-02 08:30:00" in html
    html = client.get("/supervision/audit/", {"since": "2026-03-02T08:31",
                                              "until": "2026-03-03T00:00"}).content.decode()
    assert listed_seqs(html) == []
    assert "没有符合条件的记录。" in html


def test_a_wrong_time_range_is_named(supervisor: User, log: list[AuditRecord]) -> None:
    html = client_for(supervisor).get("/supervision/audit/", {
        "since": "2026-03-02T09:00", "until": "2026-03-02T08:00"}).content.decode()
    assert "截止时间须晚于起始时间" in html
    assert "筛选条件有误" in html
    html = client_for(supervisor).get("/supervision/audit/", {"since": "昨天"}).content.decode()
    assert "起始时间" in html and "输入一个有效的日期/时间" in html


def test_one_record_shows_its_detail_readably(supervisor: User, log: list[AuditRecord]) -> None:
    html = client_for(supervisor).get("/supervision/audit/records/3/").content.decode()
    assert "<h1>审计记录 #3</h1>" in html
    assert "case.withdrawn" in html
    assert '{\n  &quot;n&quot;: 1,\n  &quot;理由&quot;: &quot;测试&quot;\n}' in html
    assert str(log[2].hash) in html and str(log[1].hash) in html  # its own and its predecessor's
    assert '用户名 <span class="code">citizen</span>' in html
    assert AuditRecord.objects.filter(action="audit.view", object_id="3").count() == 1
    assert client_for(supervisor).get("/supervision/audit/records/99/").status_code == 404


@pytest.mark.parametrize("role", [Role.CITIZEN, Role.OFFICER, Role.HEAD, Role.CLERK])
def test_others_may_not_read_the_log_and_nothing_is_recorded(db: None, log: list[AuditRecord],
                                                             role: str) -> None:
    other = make_user(f"u-{role}", role)
    client = client_for(other)
    for url in ["/supervision/audit/", "/supervision/audit/records/1/"]:
        assert client.get(url).status_code == 403
    assert client.post("/supervision/audit/verify/").status_code == 403
    assert AuditRecord.objects.count() == 5
    assert not AuditVerification.objects.exists()


def test_anonymous_visitors_are_sent_to_log_in(log: list[AuditRecord]) -> None:
    response = Client().get("/supervision/audit/")
    assert response.status_code == 302 and "/login" in response["Location"]


def test_the_bureau_admin_may_read_the_log(bureau_admin: User, log: list[AuditRecord]) -> None:
    assert client_for(bureau_admin).get("/supervision/audit/").status_code == 200


def test_verify_now_reports_an_intact_chain(supervisor: User, log: list[AuditRecord],
                                            django_capture_on_commit_callbacks: Any) -> None:
    client = client_for(supervisor)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/supervision/audit/verify/")
    verification = AuditVerification.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/supervision/audit/verifications/{verification.pk}/"
    assert (verification.status, verification.intact, verification.records_checked) == ("done", True, 6)

    html = client.get(response["Location"]).content.decode()
    assert "完好：每条记录的哈希、链接和序号都正确" in html
    assert "hx-trigger" not in html  # finished: no more polling
    actions = list(AuditRecord.objects.filter(seq__gt=5).values_list("action", "actor_id"))
    assert actions == [("audit.verify_requested", supervisor.pk), ("audit.verified", None)]


def test_verify_now_names_the_first_problem(supervisor: User, log: list[AuditRecord],
                                            django_capture_on_commit_callbacks: Any) -> None:
    set_detail(2, {"理由": "改了"})
    client = client_for(supervisor)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/supervision/audit/verify/")
    html = client.get(response["Location"]).content.decode()
    assert "审计日志未通过校验。" in html
    assert "第一处问题：记录 #2 内容被修改" in html
    assert AuditVerification.objects.get().problems == [{"kind": "modified", "seq": 2}]


def test_a_queued_verification_page_polls(supervisor: User, log: list[AuditRecord]) -> None:
    client = client_for(supervisor)
    client.post("/supervision/audit/verify/")  # the task waits for the commit that never comes
    verification = AuditVerification.objects.get()
    html = client.get(f"/supervision/audit/verifications/{verification.pk}/").content.decode()
    assert "排队中" in html and 'hx-trigger="every 2s"' in html
    partial = client.get(f"/supervision/audit/verifications/{verification.pk}/",
                         headers={"HX-Request": "true"}).content.decode()
    assert "<html" not in partial and "排队中" in partial


def test_the_public_key_page_is_public(log: list[AuditRecord]) -> None:
    checkpoint = audit_checkpoint_write()
    html = Client().get("/supervision/audit/key/").content.decode()
    assert "<h1>审计日志检查点与公钥</h1>" in html
    assert checkpoint.key_id in html and checkpoint.signature in html
    assert "-----BEGIN PUBLIC KEY-----" in html
    assert f"sha256:{checkpoint.record_hash}" in html


def test_pages_fit_a_phone_and_stay_accessible_markup(supervisor: User, log: list[AuditRecord],
                                                      chain: Callable[[int], list[int]]) -> None:
    html = client_for(supervisor).get("/supervision/audit/").content.decode()
    assert html.count("<h1") == 1
    for field in ["since", "until", "actor", "action", "object_type", "object_id"]:
        assert f'<label for="id_{field}">' in html
    assert '<div class="table-wrap">' in html and '<th scope="col">' in html


def test_the_log_pages_by_position_without_counting(supervisor: User, log: list[AuditRecord],
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """Two records a page: "更早" walks down the chain, "较新" and "最新" walk back up; the
    filters stay on every link."""
    monkeypatch.setattr("tongban.audit.views.PAGE_SIZE", 2)
    client = client_for(supervisor)
    html = client.get("/supervision/audit/").content.decode()
    assert listed_seqs(html) == [5, 4]
    assert "记录 #5 至 #4" in html and "较新" not in html
    older = re.search(r'href="\?before=(\d+)" rel="next">更早', html)
    assert older is not None and older.group(1) == "4"
    html = client.get("/supervision/audit/", {"before": "4"}).content.decode()
    assert listed_seqs(html) == [3, 2]
    assert 'href="?after=3" rel="prev">较新' in html and 'href="?before=2"' in html
    html = client.get("/supervision/audit/", {"before": "2"}).content.decode()
    assert listed_seqs(html) == [1] and "更早" not in html
    html = client.get("/supervision/audit/", {"after": "1"}).content.decode()
    assert listed_seqs(html) == [3, 2]
    # The records of these readings are newer still.
    html = client.get("/supervision/audit/", {"after": "3"}).content.decode()
    assert listed_seqs(html) == [5, 4] and 'href="?after=5" rel="prev"' in html
    # A filter keeps to its own records.
    html = client.get("/supervision/audit/", {"actor": "system"}).content.decode()
    assert listed_seqs(html) == [5, 4] and 'href="?actor=system&amp;before=4"' in html
    html = client.get("/supervision/audit/", {"actor": "system", "before": "4"}).content.decode()
    assert listed_seqs(html) == [2] and 'href="?actor=system&amp;after=2"' in html
