"""Is this licence genuine and does it still stand? — by identifier (the public page, the API,
the QR code) or by a downloaded licence file (the machine-readable JSON).

Outcomes: valid, changed (a newer version replaces it), revoked, expired, not found, tampered.
A stored licence is tampered when its content no longer decrypts, parses or verifies with the
published keys, when its row no longer says what its signed content says, or when its status is
not the one its history gives (:func:`status_problem`: the audit log's revocation and expiry of
it, and a next version for a changed one); a file is tampered when its signature does not verify
or it differs from the library's copy.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tongban.audit.models import AuditRecord
from tongban.audit.signing import PublicKey
from tongban.clock.deadline import SHANGHAI
from tongban.core.crypto import DecryptionError

from . import identifiers, signing
from .models import Licence, Status


class Outcome(models.TextChoices):
    VALID = "valid", _("有效")
    CHANGED = "changed", _("已变更")
    REVOKED = "revoked", _("已注销")
    EXPIRED = "expired", _("已过期")
    NOT_FOUND = "not_found", _("未找到")
    TAMPERED = "tampered", _("被篡改")


MESSAGES = {
    Outcome.VALID: _("该电子证照真实有效。"),
    Outcome.CHANGED: _("该电子证照已变更，本版本不再有效，请以新版本为准。"),
    Outcome.REVOKED: _("该电子证照已注销。"),
    Outcome.EXPIRED: _("该电子证照已超过有效期。"),
    Outcome.NOT_FOUND: _("电子证照库中没有该证照标识（或标识的校验位不正确）。"),
    Outcome.TAMPERED: _("该电子证照的内容或签名与签发时不符，可能已被篡改。"),
}


@dataclass
class Verdict:
    outcome: str
    identifier: str
    licence: Licence | None = None
    content: dict[str, Any] | None = None
    reason: str = ""
    current: str = ""  # the identifier of the version now valid (changed)
    problems: list[str] = field(default_factory=list)

    @property
    def message(self) -> Any:
        return MESSAGES[Outcome(self.outcome)]

    @property
    def label(self) -> Any:
        return Outcome(self.outcome).label

    @property
    def outcome_is(self) -> Any:
        from tongban.core.choices import ChoiceIs

        return ChoiceIs(self.outcome, Outcome)


def stored_content(licence: Licence, keys: dict[str, PublicKey] | None = None) -> dict[str, Any] | None:
    """The licence's signed content when it is intact, else None."""
    keys = signing.trusted_keys() if keys is None else keys
    try:
        text = licence.content
        content = json.loads(text)
    except (DecryptionError, ValueError, TypeError):
        return None
    if not isinstance(content, dict) or signing.canonical(content) != text:
        return None
    if not signing.signature_holds(text, key_id=licence.key_id, signature=licence.signature,
                                   keys=keys):
        return None
    holder = content.get("holder") or {}
    stated = (content.get("identifier"), (content.get("type") or {}).get("code"),
              holder.get("id"), holder.get("name"), content.get("valid_until"))
    row = (licence.identifier, licence.type.code, licence.holder_id, licence.holder_name,
           licence.valid_until.isoformat() if licence.valid_until else None)
    return content if stated == row else None


# Audited moves of a licence's own row (``services.lifecycle``); a change is audited on the new
# version (``licence.changed``), which names this one as ``previous``.
STATUS_ACTIONS = {"licence.revoked": Status.REVOKED, "licence.expired": Status.EXPIRED}


def recorded_status(licence: Licence) -> tuple[str, str | None]:
    """The status a licence's history gives — changed when a next version exists, else its last
    audited revocation or expiry, else valid — and the reason recorded with a revocation."""
    if Licence.objects.filter(previous_id=licence.pk).exists():
        return Status.CHANGED, None
    record = (AuditRecord.objects.filter(object_type="licence", object_id=str(licence.pk),
                                         action__in=list(STATUS_ACTIONS))
              .order_by("-seq").only("action", "detail").first())
    if record is None:
        return Status.VALID, None
    reason = (record.detail or {}).get("reason") if record.action == "licence.revoked" else None
    return STATUS_ACTIONS[record.action], reason


def status_problem(licence: Licence) -> str | None:
    """Why the licence's stored status (or revocation reason) is not the one its history gives —
    a status edited in the database (revoked back to valid) — or None when they agree."""
    status, reason = recorded_status(licence)
    if licence.status != status:
        return str(_("证照状态与签发、变更、注销的记录不符"))
    if reason is not None and licence.status_reason != reason:
        return str(_("注销理由与注销记录不符"))
    return None


def today() -> Any:
    return timezone.now().astimezone(SHANGHAI).date()


def _standing(licence: Licence) -> tuple[str, str]:
    """The outcome of an intact licence and the identifier of its current version."""
    if licence.status == Status.CHANGED:
        newest = licence
        while hasattr(newest, "next_version"):
            newest = newest.next_version
        return Outcome.CHANGED, newest.identifier
    if licence.status == Status.REVOKED:
        return Outcome.REVOKED, ""
    if licence.status == Status.EXPIRED or (licence.valid_until and licence.valid_until < today()):
        return Outcome.EXPIRED, ""
    return Outcome.VALID, ""


def _find(identifier: str) -> Licence | None:
    return (Licence.objects.select_related("type", "issuer")
            .filter(identifier=identifier.strip().upper()).first())


def verify_identifier(identifier: str) -> Verdict:
    """The verdict on the licence the library holds under ``identifier``."""
    identifier = (identifier or "").strip().upper()
    if identifiers.parse(identifier) is None:
        return Verdict(Outcome.NOT_FOUND, identifier)
    licence = _find(identifier)
    if licence is None:
        return Verdict(Outcome.NOT_FOUND, identifier)
    content = stored_content(licence)
    if content is None:
        return Verdict(Outcome.TAMPERED, identifier, licence=licence)
    problem = status_problem(licence)
    if problem is not None:
        return Verdict(Outcome.TAMPERED, identifier, licence=licence, problems=[problem])
    outcome, current = _standing(licence)
    return Verdict(outcome, identifier, licence=licence, content=content,
                   reason=licence.status_reason, current=current)


def check_document(document: Any, keys: dict[str, PublicKey]) -> tuple[dict[str, Any] | None, list[str]]:
    """The signed content of a licence file when its signature verifies with ``keys`` and its
    identifier is well formed, else None and what is wrong (offline: no library needed)."""
    if not isinstance(document, dict) or not isinstance(document.get("licence"), dict):
        return None, [str(_("文件不是电子证照的机读文件（缺少licence）"))]
    content, signature = document["licence"], document.get("signature")
    if not isinstance(signature, dict):
        return None, [str(_("文件缺少签名"))]
    text = signing.canonical(content)
    if not signing.signature_holds(text, key_id=str(signature.get("key_id", "")),
                                   signature=str(signature.get("value", "")), keys=keys):
        return None, [str(_("签名与内容不符，或签名密钥不是已公布的证照签名密钥"))]
    if identifiers.parse(str(content.get("identifier", ""))) is None:
        return None, [str(_("证照标识格式或校验位不正确"))]
    return content, []


def verify_document(document: Any) -> Verdict:
    """The verdict on an uploaded licence file: its signature, then the library's record."""
    content, problems = check_document(document, signing.trusted_keys())
    identifier = ""
    if isinstance(document, dict) and isinstance(document.get("licence"), dict):
        identifier = str(document["licence"].get("identifier", ""))[:100]
    if content is None:
        return Verdict(Outcome.TAMPERED, identifier, problems=problems)
    licence = _find(identifier)
    if licence is None:
        return Verdict(Outcome.NOT_FOUND, identifier, content=content)
    stored = stored_content(licence)
    if stored is None or stored != content:
        return Verdict(Outcome.TAMPERED, identifier, licence=licence, content=content)
    problem = status_problem(licence)
    if problem is not None:
        return Verdict(Outcome.TAMPERED, identifier, licence=licence, content=content,
                       problems=[problem])
    outcome, current = _standing(licence)
    return Verdict(outcome, identifier, licence=licence, content=content,
                   reason=licence.status_reason, current=current)


def licence_document(licence: Licence, *, verify_url: str = "") -> dict[str, Any]:
    """The machine-readable form of a licence: its signed content and the signature."""
    document: dict[str, Any] = {
        "licence": json.loads(licence.content),
        "signature": {"algorithm": licence.signature_algorithm, "key_id": licence.key_id,
                      "value": licence.signature},
    }
    if verify_url:
        document["verify_url"] = verify_url
    return document
