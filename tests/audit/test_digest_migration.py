"""Migration 0004 (every column in the hash): records already written keep their hash and
verify with the formula they were written with; records appended afterwards use the new one.
(Migrated on to the latest, 0005: the records written before are sealed already; numbering
goes on after them.)"""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.db import connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from tests.audit.conftest import TABLE, json_param, sql
from tongban.audit.models import AuditRecord
from tongban.audit.sealing import audit_seal
from tongban.audit.services import GENESIS, audit_record, record_digest
from tongban.audit.verification import verify_chain

BEFORE = [("audit", "0003_checkpoint_schedule")]
AFTER = [("audit", "0006_sealed_by_a_sequencer")]


def migrate(targets: list[tuple[str, str]]) -> None:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_an_existing_chain_still_verifies_after_the_migration(settings: Any) -> None:
    migrate(BEFORE)
    try:
        prev = GENESIS
        now = timezone.now()
        for seq in (1, 2, 3):
            detail = {"n": seq}
            # As the platform wrote records before: the array without actor_name and algorithm.
            digest = record_digest(seq=seq, at=now.isoformat(), actor_id=None, action="case.accepted",
                                   object_type="case", object_id=str(seq), detail=detail,
                                   prev_hash=prev, algorithm="sha256", version=1)
            sql(f"INSERT INTO {TABLE} (seq, at, actor_id, actor_name, action, object_type, "
                f"object_id, detail, prev_hash, hash, algorithm) VALUES (%s, %s, NULL, 'system', "
                f"'case.accepted', 'case', %s, {json_param()}, %s, %s, 'sha256')",
                [seq, now, str(seq), json.dumps(detail), prev, digest])
            prev = digest
    finally:
        migrate(AFTER)

    assert list(AuditRecord.objects.values_list("digest_version", flat=True)) == [1, 1, 1]
    with transaction.atomic():
        audit_record(actor=None, action="test.acted", object_type="thing", object_id=4)
    assert AuditRecord.objects.get(seq=4).digest_version == 2
    audit_seal()
    result = verify_chain(check_age=False)
    assert result.intact, [p.message for p in result.problems]
    assert result.records_checked == 4
