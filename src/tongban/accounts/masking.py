"""Masking personal identifiers where a role does not need them in full (domain.md §10).

ID numbers keep the first 4 and last 4 characters (``6201**********1234``), mobile phones the
first 3 and last 4 (``138****5678``). Used by lists, exports and anything shown to a role that
only needs to recognise the person.
"""

from __future__ import annotations


def _mask(value: str, keep_start: int, keep_end: int) -> str:
    value = value or ""
    if len(value) <= keep_start + keep_end:
        # Too short to show any part without revealing most of it.
        return "*" * len(value)
    return value[:keep_start] + "*" * (len(value) - keep_start - keep_end) + value[-keep_end:]


def mask_id_number(value: str) -> str:
    """``620102199001011233`` → ``6201**********1233``."""
    return _mask(value, 4, 4)


def mask_phone(value: str) -> str:
    """``13812345678`` → ``138****5678``."""
    return _mask(value, 3, 4)


def mask_name(name: str) -> str:
    """``张三`` → ``张*``, ``欧阳娜娜`` → ``欧***``: the family name only."""
    name = (name or "").strip()
    return name[:1] + "*" * (len(name) - 1) if name else ""


def mask_address(value: str) -> str:
    """``兰州市城关区皋兰路1号`` → ``兰州市城关区****``: the first six characters (city and
    district, enough to route a letter) and nothing of the street or number."""
    value = (value or "").strip()
    if not value:
        return ""
    # A short address keeps at most half, so that most of it is never shown.
    keep = 6 if len(value) > 8 else len(value) // 2
    return value[:keep] + "****"
