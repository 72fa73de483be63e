"""Uploading a case's materials: type checked by content (not by name), size limited,
SHA-256 recorded, stored through Django's storage API (local disk or object storage)."""

from __future__ import annotations

import hashlib
from typing import IO, Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from tongban.catalog.models import Material
from tongban.core.errors import AccessDenied, Problem, RuleViolation

from . import policies
from .models import Case, CaseMaterial, Status

# Leading bytes of the formats a material may have.
SIGNATURES = {
    b"%PDF-": ("application/pdf", ".pdf"),
    b"\xff\xd8\xff": ("image/jpeg", ".jpg"),
    b"\x89PNG\r\n\x1a\n": ("image/png", ".png"),
    b"PK\x03\x04": ("application/ofd", ".ofd"),  # OFD (GB/T 33190), the national e-document format
}
OPEN_STATES = {Status.DRAFT, Status.SUBMITTED, Status.PRE_REVIEW, Status.SUPPLEMENT,
               Status.ACCEPTED, Status.SUSPENDED}


def sniff(head: bytes) -> tuple[str, str] | None:
    for signature, kind in SIGNATURES.items():
        if head.startswith(signature):
            return kind
    return None


@transaction.atomic
def case_material_add(*, actor: Any, case: Case, material: Material | None, name: str,
                      upload: IO[bytes], original_name: str) -> CaseMaterial:
    """Store one file for a material of the case's item version (replacing an earlier file of
    the same material, which is kept but marked superseded)."""
    case = Case.objects.select_for_update().get(pk=case.pk)
    if not (policies.is_applicant_side(actor, case) or policies.can_receive(actor, case)):
        raise AccessDenied(_("您无权为该办件提交材料"))
    if case.status not in OPEN_STATES:
        raise RuleViolation([Problem("case", _("办件已办结，不能再提交材料"))])
    if material is not None and material.version_id != case.item_version_id:
        raise RuleViolation([Problem("material", _("该材料不属于本事项"))])
    limit = settings.CASE_UPLOAD_MAX_BYTES
    data = upload.read(limit + 1)
    if len(data) > limit:
        raise RuleViolation([Problem("file", _("文件超过%(mb)sMB的上限") % {"mb": limit // 1024 // 1024})])
    if not data:
        raise RuleViolation([Problem("file", _("文件为空"))])
    kind = sniff(data[:16])
    if kind is None:
        raise RuleViolation([Problem("file", _("只接受PDF、JPG、PNG或OFD文件（按文件内容判断）"))])
    content_type, suffix = kind
    digest = hashlib.sha256(data).hexdigest()
    CaseMaterial.objects.filter(case=case, material=material, superseded=False).exclude(
        material=None).update(superseded=True)
    record = CaseMaterial(
        case=case, material=material, name=material.name if material else name,
        original_name=original_name[:200], content_type=content_type, size=len(data),
        sha256=digest, uploaded_by=actor if getattr(actor, "pk", None) else None,
        state=CaseMaterial.State.SUPPLIED)
    record.file.save(f"{digest[:16]}{suffix}", ContentFile(data), save=False)
    record.save()
    return record
