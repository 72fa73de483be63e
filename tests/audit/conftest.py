"""Fixtures of the audit tests: a signing key of the test's own, a chain built through
``audit_record``, and tampering with the table directly in SQL (as an intruder with database
access would)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.db import connection, transaction

from tongban.audit.models import AuditRecord
from tongban.audit.sealing import audit_seal
from tongban.audit.services import SEQUENCE, audit_record, record_digest

TABLE = AuditRecord._meta.db_table


@pytest.fixture(autouse=True)
def _own_signing_key(settings: Any, tmp_path: Path) -> None:
    """Each test has its own data directory and key directory (never the real ones), apart as
    in production: the key is not kept beside the data it signs."""
    (tmp_path / "data").mkdir()
    settings.DATA_DIR = tmp_path / "data"
    settings.AUDIT_KEY_DIR = str(tmp_path / "keys")
    settings.AUDIT_HEAD_FILE = ""  # DATA_DIR/audit-head.log
    settings.AUDIT_SIGNING_KEY_FILE = ""
    settings.AUDIT_SIGNATURE = "ed25519"
    settings.AUDIT_HASH = "sha256"
    settings.AUDIT_TRUSTED_PUBLIC_KEYS = []


@pytest.fixture(autouse=True)
def _numbers_from_one(request: pytest.FixtureRequest) -> None:
    """Each test's chain starts at #1: a PostgreSQL sequence is not rolled back with the test's
    transaction, so it is set back to what the (empty) table implies."""
    if request.node.get_closest_marker("django_db") is None:
        if not {"db", "transactional_db"} & set(request.fixturenames):
            return
        request.getfixturevalue("db" if "db" in request.fixturenames else "transactional_db")
    number_after_table()


def number_after_table() -> None:
    """Numbering goes on after the table's last record (on PostgreSQL, the sequence is set as
    migration 0005 sets it): after records were inserted or deleted directly in SQL."""
    if connection.vendor == "postgresql":
        sql(f"SELECT setval('{SEQUENCE}', COALESCE((SELECT MAX(seq) FROM {TABLE}), 0) + 1, false)")


def seal(capture: Any) -> int:
    """Seal what was written (as the worker's ``audit_seal`` schedule would moments later), the
    head file getting its lines: ``seal(django_capture_on_commit_callbacks)``."""
    with capture(execute=True):
        return audit_seal()


@pytest.fixture
def sealed(django_capture_on_commit_callbacks: Any) -> Callable[[], int]:
    """``sealed()`` seals the records written so far into the chain."""
    return lambda: seal(django_capture_on_commit_callbacks)


@pytest.fixture
def chain(db: None, django_capture_on_commit_callbacks: Any) -> Callable[[int], list[int]]:
    """``chain(n)`` appends n records (one transaction each) and seals them (committed as far as
    the head file is concerned: its lines are written); returns their seq numbers."""

    def build(n: int) -> list[int]:
        seqs = []
        for i in range(n):
            with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
                seqs.append(audit_record(actor=None, action="test.acted", object_type="thing",
                                         object_id=i, detail={"n": i, "说明": f"第{i}次"}).seq)
        seal(django_capture_on_commit_callbacks)
        return seqs

    return build


@pytest.fixture
def committed(django_capture_on_commit_callbacks: Any) -> Callable[[Callable[[], Any]], Any]:
    """``committed(f)`` runs ``f`` as if its transaction committed (the head file gets its lines)."""

    def run(f: Callable[[], Any]) -> Any:
        with django_capture_on_commit_callbacks(execute=True):
            return f()

    return run


def sql(statement: str, params: list[Any] | None = None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, params or [])


def json_param() -> str:
    return "CAST(%s AS jsonb)" if connection.vendor == "postgresql" else "%s"


def set_detail(seq: int, detail: dict[str, Any]) -> None:
    sql(f"UPDATE {TABLE} SET detail = {json_param()} WHERE seq = %s", [json.dumps(detail), seq])


def set_hash(seq: int, digest: str) -> None:
    sql(f"UPDATE {TABLE} SET hash = %s WHERE seq = %s", [digest, seq])


def delete(*seqs: int) -> None:
    for seq in seqs:
        sql(f"DELETE FROM {TABLE} WHERE seq = %s", [seq])


def swap(a: int, b: int) -> None:
    sql(f"UPDATE {TABLE} SET seq = %s WHERE seq = %s", [-1, a])
    sql(f"UPDATE {TABLE} SET seq = %s WHERE seq = %s", [a, b])
    sql(f"UPDATE {TABLE} SET seq = %s WHERE seq = %s", [b, -1])


def shift_from(seq: int, by: int) -> None:
    """Renumber the records from ``seq`` on by ``by`` (in two steps: seq is unique)."""
    sql(f"UPDATE {TABLE} SET seq = seq + 1000000 WHERE seq >= %s", [seq])
    sql(f"UPDATE {TABLE} SET seq = seq - 1000000 + %s WHERE seq >= 1000000", [by])


def digest(row: AuditRecord, **changes: Any) -> str:
    """The hash the platform would compute for ``row`` with ``changes`` (as an intruder would)."""
    values = {"seq": row.seq, "at": row.at.isoformat(), "actor_id": row.actor_id,
              "actor_name": row.actor_name, "action": row.action, "object_type": row.object_type,
              "object_id": row.object_id, "detail": row.detail, "prev_hash": row.prev_hash,
              "algorithm": row.algorithm, "version": row.digest_version}
    values.update(changes)
    return record_digest(**values)


def insert_forged(*, seq: int, prev_hash: str | None, like: AuditRecord) -> str:
    """Insert a record with a valid-looking hash (computed as the platform would), chained to
    ``prev_hash`` (a sealed record's)."""
    assert prev_hash is not None
    detail = {"forged": True}
    digest_ = digest(like, seq=seq, prev_hash=prev_hash, detail=detail, action="case.approved")
    sql(f"INSERT INTO {TABLE} (seq, at, actor_id, actor_name, action, object_type, object_id, "
        f"detail, prev_hash, hash, algorithm, digest_version) VALUES (%s, %s, NULL, %s, "
        f"'case.approved', %s, %s, {json_param()}, %s, %s, %s, %s)",
        [seq, like.at, like.actor_name, like.object_type, like.object_id, json.dumps(detail),
         prev_hash, digest_, like.algorithm, like.digest_version])
    return digest_


def record(seq: int) -> AuditRecord:
    return AuditRecord.objects.get(seq=seq)

