"""Signed checkpoints: keys (generated once, or configured), the hourly schedule, and the cost
of ``audit_record`` on the hot path."""

from __future__ import annotations

import io
import logging
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gmssl_pyx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from tongban.audit.models import AuditCheckpoint, AuditRecord
from tongban.audit.services import audit_checkpoint_write, audit_record
from tongban.audit.signing import signing_key
from tongban.audit.tasks import write_checkpoint
from tongban.audit.verification import verify_chain
from tongban.scheduling.models import Schedule

Chain = Callable[[int], list[int]]


def test_a_key_is_generated_once_into_the_key_dir_not_the_data_dir(
        chain: Chain, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    chain(2)
    with caplog.at_level(logging.WARNING, logger="tongban.audit.signing"):
        first = audit_checkpoint_write()
    path = tmp_path / "keys" / "audit-signing.key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert path.read_text().startswith("-----BEGIN PRIVATE KEY-----")
    assert "TONGBAN_AUDIT_SIGNING_KEY_FILE" in caplog.text
    assert "inside the data directory" not in caplog.text
    assert not (tmp_path / "data" / "audit-signing.key").exists()
    chain(1)
    second = audit_checkpoint_write()
    assert first.key_id == second.key_id
    assert verify_chain().intact


def test_a_configured_key_file_pem_or_hex(chain: Chain, settings: Any, tmp_path: Path) -> None:
    key = Ed25519PrivateKey.generate()
    pem = tmp_path / "pem.key"
    pem.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption()))
    raw = tmp_path / "hex.key"
    raw.write_text(key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                                     serialization.NoEncryption()).hex())
    settings.AUDIT_SIGNING_KEY_FILE = str(pem)
    from_pem = signing_key()
    settings.AUDIT_SIGNING_KEY_FILE = str(raw)
    from_hex = signing_key()
    assert from_pem is not None and from_hex is not None
    assert from_pem.public == from_hex.public
    assert not (tmp_path / "keys" / "audit-signing.key").exists()
    assert not (tmp_path / "data" / "audit-signing.key").exists()

    settings.AUDIT_SIGNING_KEY_FILE = str(tmp_path / "missing.key")
    with pytest.raises(ImproperlyConfigured, match="does not exist"):
        signing_key()


def test_an_sm2_key_file_with_the_private_key_only(chain: Chain, settings: Any,
                                                   tmp_path: Path) -> None:
    public, private = gmssl_pyx.sm2_key_generate()
    path = tmp_path / "sm2.key"
    path.write_text(bytes(private).hex() + "\n")
    settings.AUDIT_SIGNATURE = "sm2"
    settings.AUDIT_SIGNING_KEY_FILE = str(path)
    key = signing_key()
    assert key is not None and key.public.raw == bytes(public)
    chain(2)
    checkpoint = audit_checkpoint_write()
    assert gmssl_pyx.sm2_verify(bytes(public), checkpoint.signed_message(),
                                bytes.fromhex(checkpoint.signature))


def test_no_new_checkpoint_while_the_chain_has_not_grown(chain: Chain) -> None:
    assert audit_checkpoint_write() is None  # nothing to sign yet
    chain(3)
    out = io.StringIO()
    call_command("audit_checkpoint", stdout=out)
    call_command("audit_checkpoint", stdout=out)
    assert AuditCheckpoint.objects.count() == 1
    assert "已签署检查点：记录 #3，3 条记录" in out.getvalue()
    assert "自上一检查点（记录 #3）以来没有新记录" in out.getvalue()


def test_the_hourly_schedule_writes_a_checkpoint(chain: Chain) -> None:
    schedule = Schedule.objects.get(name="audit_checkpoint")
    assert (schedule.task, schedule.interval_seconds, schedule.enabled) == (
        "tongban.audit.tasks.write_checkpoint", 3600, True)
    schedule.full_clean()
    chain(2)
    assert write_checkpoint.call() == 2
    assert AuditCheckpoint.objects.get().seq == 2


def test_the_task_logs_instead_of_signing_a_broken_chain(chain: Chain,
                                                         caplog: pytest.LogCaptureFixture) -> None:
    chain(3)
    from tests.audit.conftest import delete

    delete(2)
    with caplog.at_level(logging.ERROR, logger="tongban.audit.tasks"):
        assert write_checkpoint.call() is None
    assert "记录 #3 之前缺失记录 #2" in caplog.text
    assert not AuditCheckpoint.objects.exists()


def test_audit_record_costs_one_insert_that_draws_its_number(chain: Chain) -> None:
    chain(1)
    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        record = audit_record(actor=None, action="test.acted", object_type="thing", object_id=1)
    statements = [q["sql"] for q in queries.captured_queries]
    # The insert draws the number (PostgreSQL: the sequence's next; SQLite: one more than the
    # last) and reads it back; no lock on the chain, no read of its end: the sealer computes
    # the hashes (sealing.py).
    assert len(statements) == 1, statements
    assert AuditRecord.objects.get(pk=record.pk).seq == record.seq
    assert record.seq == AuditRecord.objects.order_by("-seq").values_list("seq", flat=True)[1] + 1
