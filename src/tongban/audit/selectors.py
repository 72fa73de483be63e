"""Reads of the audit log for the supervisors' page and the API (callers record the reading
with ``services.audit_log_viewed`` first)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import Count, Min, Q, QuerySet
from django.utils import timezone

from .models import AuditCheckpoint, AuditRecord, AuditVerification
from .signing import PublicKey, signing_key, trusted_keys


@dataclass(frozen=True)
class RecordFilter:
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    actor: str = ""  # username, real name or "system"
    action: str = ""  # prefix, e.g. "case." or "catalog.published"
    object_type: str = ""
    object_id: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"since": self.since.isoformat() if self.since else None,
                "until": self.until.isoformat() if self.until else None,
                "actor": self.actor, "action": self.action, "object_type": self.object_type,
                "object_id": self.object_id}


def records_filtered(f: RecordFilter) -> QuerySet[AuditRecord]:
    """Newest first. Times are aware instants (the page reads them in Asia/Shanghai)."""
    return _actor_filter(_filtered_but_actor(f), f)


def _filtered_but_actor(f: RecordFilter, *, prefix: bool = True) -> QuerySet[AuditRecord]:
    records = AuditRecord.objects.select_related("actor").order_by("-seq")
    if f.since is not None:
        records = records.filter(at__gte=f.since)
    if f.until is not None:
        records = records.filter(at__lt=f.until)
    if f.action and prefix:
        records = records.filter(action__startswith=f.action)
    if f.object_type:
        records = records.filter(object_type=f.object_type)
    if f.object_id:
        records = records.filter(object_id=f.object_id)
    return records


def _actor_ids(actor: str) -> list[int]:
    # The accounts first (a unique-key read), so that the log is filtered on its own indexed
    # columns rather than through a join.
    from django.contrib.auth import get_user_model

    return list(get_user_model().objects.filter(username=actor).values_list("pk", flat=True))


def _actor_filter(records: QuerySet[AuditRecord], f: RecordFilter, *,
                  by_name: bool = True) -> QuerySet[AuditRecord]:
    if not f.actor:
        return records
    if f.actor.lower() == "system":
        return records.filter(actor__isnull=True)
    if not by_name:  # the caller walks the two indexes itself
        return records
    return records.filter(Q(actor_id__in=_actor_ids(f.actor)) | Q(actor_name=f.actor))


# More index walks than this and a filter is read as one query (its rows are then common).
MAX_WALKS = 64


def _walks(f: RecordFilter) -> list[Q] | None:
    """The conditions whose union the filter's records are, each served by one walk down an
    index in the order of seq — ``None`` when one plain query is (no actor by name, action or
    bare object id). An actor given by name: the (actor, seq) and (actor_name, seq) indexes.
    An action prefix: one walk of (action, seq) per action it matches, found by a skip scan
    of that index (a prefix itself — LIKE — is served by no index under the database's
    collation, and neither is an OR across values in seq order). An object id without its
    type: one walk of (object_type, object_id, seq) per object type. An OR of these in one
    condition would make a database sort every matching record, or walk the whole chain."""
    walks = [Q()]
    if f.actor and f.actor.lower() != "system":
        walks = [Q(actor_id__in=_actor_ids(f.actor)), Q(actor_name=f.actor)]
    if f.action:
        # Each walk an action equal to one the prefix matches: the walks stand for the prefix.
        actions = distinct_values("action", limit=MAX_WALKS + 1, prefix=f.action)
        walks = [w & Q(action=a) for w in walks for a in actions]
    if f.object_id and not f.object_type:
        walks = [w & Q(object_type=t) for w in walks
                 for t in distinct_values("object_type", limit=10_000)]
    if walks == [Q()] or len(walks) > MAX_WALKS:
        return None
    return walks


def _by_walks(f: RecordFilter, walks: list[Q] | None) -> QuerySet[AuditRecord]:
    """The filter's records, less what the walks stand for (the action prefix, an actor by
    name)."""
    if walks is None:
        return _actor_filter(_filtered_but_actor(f), f)
    return _actor_filter(_filtered_but_actor(f, prefix=False), f, by_name=False)


def _newest(f: RecordFilter, position: Q, order: str, limit: int,
            walks: list[Q] | None) -> list[AuditRecord]:
    """Up to ``limit`` records matching ``f`` and ``position`` in ``order`` of seq: one query,
    or, with ``walks``, the first ``limit`` of each walk merged in one statement (the ids,
    each once)
    and the records read by id (a second)."""
    base = _by_walks(f, walks).filter(position)
    if walks is None:
        return list(base.order_by(order)[:limit])
    parts: list[str] = []
    params: list[Any] = []
    for i, walk in enumerate(walks):
        walked = base.filter(walk).order_by(order).values_list("pk", "seq")[:limit]
        try:
            sql, walk_params = walked.query.sql_with_params()
        except EmptyResultSet:  # e.g. an actor name that is no account's
            continue
        parts.append(f"SELECT * FROM ({sql}) walk{i}")
        params.extend(walk_params)
    if not parts:
        return []
    direction = "DESC" if order.startswith("-") else "ASC"
    with connection.cursor() as cursor:
        # UNION, not UNION ALL: a record an actor's two walks both find is listed once.
        cursor.execute(f"{' UNION '.join(parts)} ORDER BY 2 {direction} LIMIT %s",
                       [*params, limit])
        merged = [row[0] for row in cursor.fetchall()]
    found = AuditRecord.objects.select_related("actor").in_bulk(merged)
    return [found[pk] for pk in merged if pk in found]


@dataclass
class RecordPage:
    """One page of the log, newest first, found by its position in the chain (keyset on
    ``seq``) rather than by an offset: no COUNT over millions, no deep OFFSET scans."""

    records: list[AuditRecord]
    newer: int | None  # the ``after`` of the page before this one (None: this is the newest)
    older: int | None  # the ``before`` of the page after this one (None: nothing older)

    @property
    def first_seq(self) -> int | None:
        return self.records[0].seq if self.records else None

    @property
    def last_seq(self) -> int | None:
        return self.records[-1].seq if self.records else None


def records_page(f: RecordFilter, *, before: int | None = None, after: int | None = None,
                 size: int = 50) -> RecordPage:
    """The ``size`` records matching ``f`` just older than ``before`` (a seq), or just newer
    than ``after``, or the newest ones."""
    walks = _walks(f)
    if after is not None and before is None:
        found = _newest(f, Q(seq__gt=after), "seq", size + 1, walks)
        more_newer = len(found) > size
        found = found[:size][::-1]
        older_exists = bool(found) or bool(_newest(f, Q(seq__lte=after), "-seq", 1, walks))
        return RecordPage(found, found[0].seq if found and more_newer else None,
                          (found[-1].seq if found else after + 1) if older_exists else None)
    found = _newest(f, Q(seq__lt=before) if before is not None else Q(), "-seq", size + 1,
                    walks)
    more_older = len(found) > size
    found = found[:size]
    newer = None
    if before is not None and found:
        newer = found[0].seq if _newest(f, Q(seq__gte=before), "seq", 1, walks) else None
    return RecordPage(found, newer, found[-1].seq if found and more_older else None)


def record_get(seq: int) -> AuditRecord | None:
    return AuditRecord.objects.select_related("actor").filter(seq=seq).first()


def distinct_values(column: str, limit: int = 200, *, prefix: str = "") -> list[str]:
    """The distinct values of ``column`` (``object_type`` or ``action``), in order, only those
    starting with ``prefix`` when given (the database's own test, as ``__startswith``): a skip
    scan of the index that leads with the column — one probe per value (a recursive query,
    each step the next value after the last), never a DISTINCT over millions of records."""
    if column not in DISTINCT_COLUMNS:
        raise ValueError(column)
    table = connection.ops.quote_name(AuditRecord._meta.db_table)
    col = connection.ops.quote_name(column)
    matching, params = "", []
    if prefix:
        # The operator of ``__startswith`` on this database (``LIKE %s`` with its escape).
        operators: dict[str, str] = getattr(connection, "operators", {})
        matching = " AND v " + operators["startswith"] % "%s"
        params.append(f"{connection.ops.prep_for_like_query(prefix)}%")
    sql = (f"WITH RECURSIVE found(v) AS ("
           f"SELECT (SELECT {col} FROM {table} ORDER BY {col} LIMIT 1) "
           f"UNION ALL "
           f"SELECT (SELECT {col} FROM {table} WHERE {col} > found.v ORDER BY {col} LIMIT 1) "
           f"FROM found WHERE found.v IS NOT NULL) "
           f"SELECT v FROM found WHERE v IS NOT NULL{matching} LIMIT %s")
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, limit])
        return [row[0] for row in cursor.fetchall()]


# Each served by an index that leads with it (``audit_object_seq``, ``audit_action_seq``).
DISTINCT_COLUMNS = ("object_type", "action")


def object_types() -> list[str]:
    return distinct_values("object_type")


def checkpoints_latest(limit: int = 20) -> list[AuditCheckpoint]:
    return list(AuditCheckpoint.objects.order_by("-seq", "-at")[:limit])


def verifications_recent(limit: int = 5) -> list[AuditVerification]:
    return list(AuditVerification.objects.select_related("requested_by")[:limit])


def published_keys() -> tuple[PublicKey | None, list[PublicKey]]:
    """The current checkpoint key (created on first use) and the retired keys still trusted."""
    current = signing_key(create=True)
    public = current.public if current is not None else None
    retired = [k for kid, k in trusted_keys().items() if public is None or kid != public.key_id]
    return public, retired


def verification_messages(verification: AuditVerification) -> list[str]:
    """The problems a finished verification found, as sentences in the active language."""
    from .verification import Problem

    out = []
    for p in verification.problems:
        params = {k: v for k, v in p.items() if k not in {"kind", "seq"}}
        out.append(Problem(p["kind"], p["seq"], params).message)
    return out


def unsealed_tail(now: dt.datetime | None = None) -> tuple[int, float | None]:
    """The records written and not yet sealed into the chain: how many, and the age of the
    oldest in seconds (None: none). A tail older than ``AUDIT_SEAL_MAX_AGE_SECONDS`` means the
    sealer (the ``audit_seal`` schedule of ``tongban worker``) is not running. Cheap: a
    partial index holds exactly these records."""
    tail = AuditRecord.objects.filter(hash__isnull=True).aggregate(n=Count("id"), oldest=Min("at"))
    if not tail["n"]:
        return 0, None
    return int(tail["n"]), max(0.0, ((now or timezone.now()) - tail["oldest"]).total_seconds())
