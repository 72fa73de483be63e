"""Application form data checked against the form definition of the item version.

Items without a definition of their own use :data:`DEFAULT_FORM` (contact, purpose).
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from tongban.core.errors import Problem

DEFAULT_FORM: list[dict[str, Any]] = [
    {"name": "contact_phone", "label": "联系电话", "type": "phone", "required": True},
    {"name": "purpose", "label": "申请事由", "type": "text", "required": True, "max_length": 500},
    {"name": "address", "label": "联系地址", "type": "address", "required": False},
]


def form_fields(version: Any) -> list[dict[str, Any]]:
    return DEFAULT_FORM


def form_validate(*, version: Any, data: dict[str, Any]) -> tuple[dict[str, Any], list[Problem]]:
    """The cleaned data and the problems, each naming its field as ``form.<name>``."""
    from stdnum.cn import ric

    clean: dict[str, Any] = {}
    problems: list[Problem] = []
    fields = form_fields(version)
    known = {f["name"] for f in fields}
    for name in data:
        if name not in known:
            problems.append(Problem(f"form.{name}", _("申请表中没有该项")))
    for spec in fields:
        name, value = spec["name"], data.get(spec["name"])
        text = "" if value is None else str(value).strip()
        where = f"form.{name}"
        if not text:
            if spec.get("required"):
                problems.append(Problem(where, _("%(label)s为必填项") % {"label": spec["label"]}))
            continue
        kind = spec.get("type", "text")
        if kind == "phone" and not (text.isdigit() and len(text) == 11 and text.startswith("1")) \
                and not (len(text) >= 7 and text.replace("-", "").isdigit()):
            problems.append(Problem(where, _("电话号码格式不正确")))
        elif kind == "id_number" and not ric.is_valid(text):
            problems.append(Problem(where, _("公民身份号码无效")))
        elif len(text) > int(spec.get("max_length", 1000)):
            problems.append(Problem(where, _("内容过长")))
        clean[name] = text
    return clean, problems
