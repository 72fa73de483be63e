"""The licence identifier (domain.md §8): its check character against an independent
implementation of ISO 7064 MOD 37,36, written here from the standard, not from python-stdnum."""

from __future__ import annotations

import random

import pytest

from tongban.licences import identifiers

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def mod_37_36(text: str) -> str:
    """ISO/IEC 7064 hybrid system MOD 37,36 (M = 36): P starts at M; for each character a,
    P = 2 · ((P + a) mod M, or M when that is 0) mod (M + 1); the check character c makes
    (P + c) mod M = 1."""
    m = 36
    p = m
    for char in text:
        s = (p + ALPHABET.index(char)) % m
        p = (2 * (s or m)) % (m + 1)
    return ALPHABET[(m + 1 - p) % m]


# Identifiers held back from the implementation: (type code, issuer, serial, version).
HELD_BACK = [
    ("11100000000013127D001", "11620100051317876B", "0000000001", 1),
    ("11100000000013127D002", "1162010202028571XC", "0000000042", 3),
    ("11100000000013338W001", "11620100MB202820XH", "2026000123", 17),
    ("11100000MB0143028R001", "11620100MB2838245P", "ABCZ9", 999),
]


@pytest.mark.parametrize(("type_code", "issuer", "serial", "version"), HELD_BACK)
def test_check_character_matches_an_independent_computation(type_code: str, issuer: str,
                                                            serial: str, version: int) -> None:
    expected = mod_37_36(f"{type_code}{issuer}{serial}{version:03d}")
    identifier = identifiers.build(type_code, issuer, serial, version)
    assert identifier == f"1.2.156.3005.2.{type_code}.{issuer}.{serial}.{version:03d}.{expected}"
    assert identifiers.parse(identifier) == identifiers.Parts(type_code, issuer, serial, version)


def test_random_bodies_agree_with_the_independent_computation() -> None:
    rng = random.Random(36)
    for _ in range(2000):
        body = "".join(rng.choice(ALPHABET) for _ in range(rng.randint(1, 60)))
        assert identifiers.mod_37_36.calc_check_digit(body) == mod_37_36(body)


def test_a_wrong_check_character_or_shape_parses_to_nothing() -> None:
    good = identifiers.build(*HELD_BACK[0])
    wrong = good[:-1] + ("0" if good[-1] != "0" else "1")
    assert identifiers.parse(wrong) is None
    assert identifiers.parse(good.replace(".001.", ".01.")) is None
    assert identifiers.parse("1.2.156.3005.2.X") is None
    assert identifiers.parse(good.lower()) is not None  # read case-insensitively


def test_type_codes_need_a_valid_ministry_uscc() -> None:
    assert identifiers.type_code_problem("11100000000013127D001") is None
    assert identifiers.type_code_problem("11100000000013127E001") == "uscc"
    assert identifiers.type_code_problem("11100000000013127D01") == "format"
