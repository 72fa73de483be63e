"""The e-licence identifier (电子证照标识, GB/T 36903-2018 as one province implements it):

``1.2.156.3005.2.`` + licence-type code + ``.`` + issuer's USCC + ``.`` + serial + ``.`` +
3-digit version + ``.`` + check character,

the check character being ISO 7064 MOD 37,36 (python-stdnum ``iso7064.mod_37_36``) over the type
code, the issuer's code, the serial and the version written together. The type code is the
issuing ministry's 18-character 统一社会信用代码 followed by three digits.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from stdnum import exceptions as stdnum_exceptions
from stdnum.cn import uscc as stdnum_uscc
from stdnum.iso7064 import mod_37_36

PREFIX = "1.2.156.3005.2."
TYPE_CODE_RE = re.compile(r"[0-9A-Z]{18}\d{3}")
SERIAL_RE = re.compile(r"[0-9A-Z]{1,30}")
IDENTIFIER_RE = re.compile(
    r"1\.2\.156\.3005\.2\.(?P<type>[0-9A-Z]{21})\.(?P<issuer>[0-9A-Z]{18})\."
    r"(?P<serial>[0-9A-Z]{1,30})\.(?P<version>\d{3})\.(?P<check>[0-9A-Z])")


@dataclass(frozen=True)
class Parts:
    type_code: str
    issuer: str
    serial: str
    version: int


def check_character(type_code: str, issuer: str, serial: str, version: int) -> str:
    return str(mod_37_36.calc_check_digit(f"{type_code}{issuer}{serial}{version:03d}"))


def build(type_code: str, issuer: str, serial: str, version: int) -> str:
    """The identifier of one version of a licence."""
    if not TYPE_CODE_RE.fullmatch(type_code) or not SERIAL_RE.fullmatch(serial):
        raise ValueError(f"not a licence type code and serial: {type_code!r} {serial!r}")
    if not 1 <= version <= 999:
        raise ValueError(f"version out of range: {version}")
    check = check_character(type_code, issuer, serial, version)
    return f"{PREFIX}{type_code}.{issuer}.{serial}.{version:03d}.{check}"


def parse(identifier: str) -> Parts | None:
    """The parts of a well-formed identifier whose check character is right, else None."""
    match = IDENTIFIER_RE.fullmatch(identifier.strip().upper())
    if match is None:
        return None
    parts = Parts(match["type"], match["issuer"], match["serial"], int(match["version"]))
    if check_character(parts.type_code, parts.issuer, parts.serial, parts.version) != match["check"]:
        return None
    return parts


def type_code_problem(code: str) -> str | None:
    """Why ``code`` is not a licence-type code (18-character USCC of the ministry + 3 digits)."""
    if not TYPE_CODE_RE.fullmatch(code):
        return "format"
    try:
        stdnum_uscc.validate(code[:18])
    except stdnum_exceptions.ValidationError:
        return "uscc"
    return None
