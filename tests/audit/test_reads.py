"""The audit record of a read (``audit.reads.read_record``): one statement, numbered like every
other record, committed on its own outside a transaction, chained by the sealer."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.db import connection, transaction
from django.utils import timezone

from tests.audit.conftest import digest, record
from tests.factories import UserFactory
from tongban.accounts.models import User
from tongban.audit.models import AuditRecord
from tongban.audit.reads import read_record
from tongban.audit.services import DIGEST_VERSION, audit_record
from tongban.audit.verification import verify_chain

Chain = Callable[[int], list[int]]
Sealed = Callable[[], int]


def test_a_read_record_is_numbered_after_the_others_and_sealed_into_the_chain(
        chain: Chain, sealed: Sealed) -> None:
    chain(2)
    reader: User = UserFactory.create()
    read_record(actor=reader, action="case.viewed", object_type="case", object_id=42,
                detail={"说明": "查看"})
    with transaction.atomic():
        audit_record(actor=None, action="test.acted", object_type="thing", object_id=4)
    row = record(3)
    assert (row.action, row.object_type, row.object_id, row.actor_id, row.actor_name) == (
        "case.viewed", "case", "42", reader.pk, str(reader))
    assert (row.detail, row.prev_hash, row.hash, row.digest_version) == (
        {"说明": "查看"}, None, None, DIGEST_VERSION)
    assert record(4).action == "test.acted"
    assert sealed() == 2
    row = record(3)
    assert row.prev_hash == record(2).hash and row.hash == digest(row)
    assert verify_chain(check_age=False).intact


def test_the_system_reading_is_recorded_as_system(chain: Chain) -> None:
    read_record(actor=None, action="case.viewed", object_type="case", object_id="X")
    row = AuditRecord.objects.get()
    assert (row.seq, row.actor_id, row.actor_name, row.detail) == (1, None, "system", {})


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_outside_a_transaction_it_commits_by_itself() -> None:
    assert connection.get_autocommit() and not connection.in_atomic_block
    read_record(actor=None, action="case.viewed", object_type="case", object_id=1)
    read_record(actor=None, action="case.viewed", object_type="case", object_id=2)
    # Committed: a rollback of a later transaction does not take them back.
    with pytest.raises(RuntimeError), transaction.atomic():
        read_record(actor=None, action="case.viewed", object_type="case", object_id=3)
        raise RuntimeError
    rows = list(AuditRecord.objects.order_by("seq").values_list("seq", "object_id"))
    assert [object_id for _seq, object_id in rows] == ["1", "2"]
    assert rows[1][0] > rows[0][0]


def test_on_postgresql_the_transaction_takes_its_id_before_the_number(db: None) -> None:
    """The sealing rule (``audit.sealing``): a transaction holding a number already has its id.
    The plan evaluates ``pg_current_xact_id()`` below the projection that draws the number (a
    planner dropping the unused id would leave ``NULL::xid8`` instead)."""
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's sequence and transaction ids")
    from tongban.audit import reads

    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN VERBOSE " + reads._statement("default"),
                       [timezone.now(), None, "system", "a", "b", "c", "{}", "sha256", 2])
        plan = "\n".join(row[0] for row in cursor.fetchall())
    # EXPLAIN lists the outer nodes first: the number is drawn above the node taking the id.
    outer, found, inner = plan.partition("pg_current_xact_id()")
    assert found and "nextval" in outer and "nextval" not in inner, plan
