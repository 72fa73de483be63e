"""公民身份号码 (resident ID numbers): the one check every door uses.

Registration, the account admin, the provincial identity provider, online applications (the
applicant, the agent and the form's ID-number fields), the window and the proxy desk all call
:func:`id_number_problem` with the plain value, so a number is valid or invalid everywhere alike.

A number (GB 11643) is valid when it has 18 characters, the first 17 digits and the last a digit
or ``X``; its characters 7–14 are a real birth date not after today; its check character matches
(ISO 7064 MOD 11-2); and its first six digits are an administrative division code that GB/T 2260
has used at **any** time. The code is not compared with the birth date: a number keeps the code
of the place that issued it, and many residents born before their district was created hold a
code younger than themselves (``620102`` 城关区 is dated 1983 onwards; its older residents were
born long before). Codes withdrawn since (``110103`` 崇文区) stay valid for the same reason.
"""

from __future__ import annotations

import datetime as dt
import enum
import re
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from stdnum import numdb
from stdnum.cn import ric


class IdNumberFault(enum.StrEnum):
    """Which part of a number is wrong, in the order the parts are checked."""

    LENGTH = "length"
    FORMAT = "format"
    DATE = "date"
    CHECK = "check"
    DIVISION = "division"


def id_number_compact(value: str | None) -> str:
    """Without spaces and hyphens, upper case: ``620102 19550610 123x`` → ``62010219550610123X``."""
    return re.sub(r"[\s-]", "", value or "").upper()


def division_ever_existed(code: str) -> bool:
    """Whether a six-digit code names a county-level division (or a province's or city's own
    code) at any date in the GB/T 2260 history, withdrawn codes included."""
    if len(code) != 6 or not code.isdigit():
        return False
    found = {key: value for _part, props in numdb.get("cn/loc").info(code)
             for key, value in props.items()}
    return bool(found.get("county"))


def _birth_date(number: str) -> dt.date | None:
    try:
        return dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return None


def id_number_fault(value: str | None, *, today: dt.date | None = None) -> IdNumberFault | None:
    """The first thing wrong with the number (length, format, date, check character, division
    code), or None when it is valid."""
    number = id_number_compact(value)
    if len(number) != 18:
        return IdNumberFault.LENGTH
    if not (number[:17].isdigit() and number[:17].isascii()) or number[17] not in "0123456789X":
        return IdNumberFault.FORMAT
    born = _birth_date(number)
    if born is None or born > (today or timezone.localdate()):
        return IdNumberFault.DATE
    if number[17] != ric.calc_check_digit(number):
        return IdNumberFault.CHECK
    if not division_ever_existed(number[:6]):
        return IdNumberFault.DIVISION
    return None


def id_number_problem(value: str | None, *, label: Any = None,
                      today: dt.date | None = None) -> Any:
    """The message saying what is wrong with the number, or None when it is valid.

    ``label`` names the number in the message (``代理人公民身份号码``, a form field's label in
    quotes); by default ``公民身份号码``.
    """
    fault = id_number_fault(value, today=today)
    if fault is None:
        return None
    number = id_number_compact(value)
    label = label if label is not None else _("公民身份号码")
    if fault == IdNumberFault.LENGTH:
        return _("%(label)s应为18位（现为%(n)s位）") % {"label": label, "n": len(number)}
    if fault == IdNumberFault.FORMAT:
        return _("%(label)s前17位应为数字，末位应为数字或X") % {"label": label}
    if fault == IdNumberFault.DATE:
        text = f"{number[6:10]}-{number[10:12]}-{number[12:14]}"
        if _birth_date(number) is not None:
            return _("%(label)s中的出生日期%(date)s晚于今天") % {"label": label, "date": text}
        return _("%(label)s第7至14位的出生日期%(date)s不是有效日期") % {"label": label, "date": text}
    if fault == IdNumberFault.CHECK:
        return _("%(label)s末位校验码与前17位不符，请核对号码") % {"label": label}
    return _("%(label)s前6位%(code)s不是任何时期的行政区划代码") % {
        "label": label, "code": number[:6]}


def is_valid_id_number(value: str | None) -> bool:
    return id_number_fault(value) is None
