"""/api/v1/audit/: the log for supervisors (each read recorded), and the public checkpoints,
which an outsider verifies with nothing but the published public key."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from django.test import Client

from tests.conftest import make_user
from tongban.accounts.models import Role, User
from tongban.audit.models import AuditRecord
from tongban.audit.services import audit_checkpoint_write

Chain = Callable[[int], list[int]]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def supervisor(db: None) -> User:
    return make_user("jiancha", Role.SUPERVISOR, real_name="赵监察")


def test_supervisors_read_the_log_newest_first_in_pages(
        supervisor: User, chain: Chain, issue_token: Callable[[User], str]) -> None:
    chain(5)
    headers = bearer(issue_token(supervisor))
    first = Client().get("/api/v1/audit/records", {"limit": 2}, headers=headers).json()
    assert [r["seq"] for r in first["items"]] == [5, 4]
    assert first["next_before_seq"] == 4
    assert first["items"][0]["detail"] == {"n": 4, "说明": "第4次"}
    assert first["items"][0]["actor_name"] == "system" and first["items"][0]["algorithm"] == "sha256"
    # Times in Beijing time, as every other answer of the API gives them.
    at = dt.datetime.fromisoformat(first["items"][0]["at"])
    assert at.utcoffset() == dt.timedelta(hours=8)
    assert abs(at - AuditRecord.objects.get(seq=5).at) < dt.timedelta(milliseconds=1)  # (JSON: ms)
    second = Client().get("/api/v1/audit/records", {"limit": 2, "before_seq": 4},
                          headers=headers).json()
    assert [r["seq"] for r in second["items"]] == [3, 2]

    viewed = AuditRecord.objects.filter(action="audit.view").order_by("seq")
    assert [(r.actor_id, r.detail["what"], r.detail.get("filters")) for r in viewed] == [
        (supervisor.pk, "api", {}), (supervisor.pk, "api", {"before_seq": 4})]


def test_filters_and_one_record(supervisor: User, chain: Chain,
                                issue_token: Callable[[User], str]) -> None:
    chain(3)
    headers = bearer(issue_token(supervisor))
    found = Client().get("/api/v1/audit/records", {"action": "test.", "object_id": "1"},
                         headers=headers).json()
    assert [r["seq"] for r in found["items"]] == [2]
    one = Client().get("/api/v1/audit/records/2", headers=headers)
    assert one.status_code == 200 and one.json()["object_id"] == "1"
    assert Client().get("/api/v1/audit/records/99", headers=headers).status_code == 404


def test_others_get_403_and_nothing_is_recorded(citizen: User, chain: Chain,
                                                issue_token: Callable[[User], str]) -> None:
    chain(2)
    officer = make_user("officer", Role.OFFICER)
    for user in (citizen, officer):
        headers = bearer(issue_token(user))
        assert Client().get("/api/v1/audit/records", headers=headers).status_code == 403
        assert Client().get("/api/v1/audit/records/1", headers=headers).status_code == 403
        assert Client().post("/api/v1/audit/verifications", headers=headers).status_code == 403
    assert Client().get("/api/v1/audit/records").status_code == 401
    assert AuditRecord.objects.count() == 2


def test_a_verification_through_the_api(supervisor: User, chain: Chain, issue_token: Any,
                                        django_capture_on_commit_callbacks: Any) -> None:
    chain(3)
    headers = bearer(issue_token(supervisor))
    with django_capture_on_commit_callbacks(execute=True):
        response = Client().post("/api/v1/audit/verifications", headers=headers)
    assert response.status_code == 202
    run = Client().get(f"/api/v1/audit/verifications/{response.json()['id']}", headers=headers).json()
    assert (run["status"], run["intact"], run["records_checked"], run["problems"]) == (
        "done", True, 4, [])
    assert dt.datetime.fromisoformat(run["requested_at"]).utcoffset() == dt.timedelta(hours=8)


def test_outsiders_verify_checkpoints_with_the_published_key(chain: Chain) -> None:
    chain(3)
    audit_checkpoint_write()
    chain(2)
    audit_checkpoint_write()

    keys = Client().get("/api/v1/audit/public-key").json()
    assert len(keys) == 1 and keys[0]["current"] is True and keys[0]["algorithm"] == "ed25519"
    public = Ed25519PublicKey.from_public_bytes(bytes.fromhex(keys[0]["public_key_hex"]))

    checkpoints = Client().get("/api/v1/audit/checkpoints").json()
    assert [(c["seq"], c["count"]) for c in checkpoints] == [(5, 5), (3, 3)]
    for c in checkpoints:
        message = (f"tongban-audit-checkpoint:v1:{c['seq']}:{c['record_hash']}:"
                   f"{c['hash_algorithm']}:{c['count']}:{c['at']}")
        assert message == c["signed_message"]
        public.verify(bytes.fromhex(c["signature"]), message.encode())  # raises if forged
        assert c["key_id"] == keys[0]["key_id"]
    assert checkpoints[0]["record_hash"] == AuditRecord.objects.get(seq=5).hash
