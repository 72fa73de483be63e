"""Re-indexing the exchange log after a new blind-index key (``tongban rotate_keys``).

``ExchangeUse.subject_index`` is the keyed hash of whose data was read; the log never holds the
ID number or USCC itself, so it cannot be re-indexed from its own rows. The values it may be
matched against are held elsewhere: the accounts (a citizen's ID number, a company's USCC —
whoever can open "my data uses") and the providers' held records. Each such value is hashed under
every older index key; a use whose old index matches is moved to the current one. A use of a
subject known nowhere (an interface resource, no account) keeps its old index: it is found again
once that person registers only while the old key stays in the key file (docs/privacy.md).
"""

from __future__ import annotations

from collections.abc import Iterator

from django.contrib.auth import get_user_model
from django.db import transaction

from tongban.core import crypto

from .models import ExchangeUse, ResourceRecord

LABEL = "exchange.ExchangeUse"


def _known_subjects() -> Iterator[str]:
    users = get_user_model().objects.all()
    yield from (v for v in users.exclude(id_number_index="")
                .values_list("id_number", flat=True).iterator() if v)
    yield from (v for v in users.exclude(uscc="").values_list("uscc", flat=True).iterator() if v)
    yield from (v for v in ResourceRecord.objects.values_list("subject", flat=True).iterator()
                if v)


def reindex_uses() -> tuple[str, int]:
    """Move every use indexed under an older key whose subject is known to the current key.
    Returns (label, uses rewritten)."""
    ring = crypto.keys()
    current = f"{ring.current_index_version}:"
    stale = set(ExchangeUse.objects.exclude(subject_index="")
                .exclude(subject_index__startswith=current)
                .values_list("subject_index", flat=True).distinct())
    if not stale:
        return LABEL, 0
    moves: dict[str, str] = {}
    for value in _known_subjects():
        for old in crypto.blind_indexes(value, ring)[1:]:
            if old in stale:
                moves[old] = crypto.blind_index(value, ring)
    rewritten = 0
    with transaction.atomic():
        for old, new in moves.items():
            rewritten += ExchangeUse.objects.filter(subject_index=old).update(subject_index=new)
    return LABEL, rewritten
