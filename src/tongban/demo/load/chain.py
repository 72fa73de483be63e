"""The generated audit records: appended to the chain exactly as ``audit_record`` hashes them
(``tongban.audit.services.record_digest``, digest version 2), then sealed as the hourly
checkpoint would seal them, and the chain's new head written to the head file, so that
``tongban verify_audit`` finds the chain intact."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.conf import settings
from django.db import transaction

from tongban.audit import head
from tongban.audit.models import AuditCheckpoint, AuditRecord
from tongban.audit.sealing import audit_seal
from tongban.audit.services import DIGEST_VERSION, GENESIS, record_digest
from tongban.audit.signing import checkpoint_message, signing_key

from .writer import Table, Writer


class Chain:
    """The end of the chain, extended one record at a time (rows go to ``writer``)."""

    def __init__(self, table: Table, writer: Writer) -> None:
        # Records written since the sealer last ran (load_demo's, say) join the chain first, so
        # that its end has a hash to link to.
        audit_seal()
        last = AuditRecord.objects.order_by("-seq").values_list("seq", "hash").first()
        self.seq, self.prev = (int(last[0]), str(last[1])) if last else (0, GENESIS)
        self.next_id = table.next_id()
        self.table = table
        self.writer = writer
        self.algorithm = settings.AUDIT_HASH
        self.last_at: dt.datetime | None = None
        self.added = 0

    def append(self, *, at: dt.datetime, actor_id: int | None, actor_name: str, action: str,
               object_type: str, object_id: str, detail: dict[str, Any]) -> None:
        self.seq += 1
        # As audit_record writes: the name of an account, "system" without one.
        name = actor_name[:150] if actor_id else "system"
        digest = record_digest(seq=self.seq, at=at.isoformat(), actor_id=actor_id,
                               actor_name=name, action=action, object_type=object_type,
                               object_id=object_id, detail=detail, prev_hash=self.prev,
                               algorithm=self.algorithm, version=DIGEST_VERSION)
        self.writer.add(self.table, (
            self.next_id, self.seq, at, actor_id, name, action, object_type, object_id,
            json.dumps(detail, ensure_ascii=False), self.prev, digest, self.algorithm,
            DIGEST_VERSION))
        self.next_id += 1
        self.prev = digest
        self.last_at = at
        self.added += 1

    def seal(self, now: dt.datetime) -> AuditCheckpoint | None:
        """Sign the new end (a checkpoint, as ``audit_checkpoint_write`` signs one, without
        re-verifying what was just written) and append the end and the checkpoint to the head
        file. Nothing when no record was added."""
        if not self.added or self.last_at is None:
            return None
        key = signing_key(create=True)
        assert key is not None
        count = AuditRecord.objects.filter(seq__lte=self.seq).count()
        signature = key.sign(checkpoint_message(seq=self.seq, record_hash=self.prev,
                                                hash_algorithm=self.algorithm, count=count,
                                                at=now))
        with transaction.atomic():
            connection = transaction.get_connection()
            if connection.vendor == "postgresql":
                # Live appends draw their numbers from this sequence: past the generated ones.
                with connection.cursor() as cursor:
                    cursor.execute("SELECT setval('audit_record_seq', GREATEST("
                                   "(SELECT last_value FROM audit_record_seq), %s))", [self.seq])
            checkpoint = AuditCheckpoint.objects.create(
                seq=self.seq, record_hash=self.prev, hash_algorithm=self.algorithm, count=count,
                at=now, signature_algorithm=key.algorithm, key_id=key.public.key_id,
                signature=signature.hex())
        # The file vouches for the new end only (not each generated record): it then holds
        # less than a live system's, never something the database does not.
        head.write_record(self.seq, self.prev, self.last_at)
        head.write_checkpoint(self.seq, self.prev, now, key.public.key_id)
        return checkpoint
