"""Uploading a case's materials: type checked by content (not by name), size limited,
SHA-256 recorded, stored through Django's storage API (local disk or object storage).

Accepted formats: PDF, JPEG, PNG and OFD (GB/T 33190, the national format for electronic
documents — a ZIP package whose root holds ``OFD.xml``). A 容缺 material may instead be promised
in writing (``services.case_material_promise``); the promise lets the case be accepted, and the
file must follow before the result is handed over (:func:`outstanding_promises`).
"""

from __future__ import annotations

import hashlib
import io
import posixpath
import zipfile
from typing import IO, TYPE_CHECKING, Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from tongban.accounts.permissions import account_of
from tongban.catalog.models import Material
from tongban.core import prepared
from tongban.core.errors import AccessDenied, Problem, RuleViolation

from . import policies
from .models import Case, CaseMaterial, Status

if TYPE_CHECKING:
    from tongban.accounts.permissions import Actor

PDF = ("application/pdf", ".pdf")
JPEG = ("image/jpeg", ".jpg")
PNG = ("image/png", ".png")
OFD = ("application/ofd", ".ofd")
ZIP_SIGNATURE = b"PK\x03\x04"
# Leading bytes of the formats a material may have (a ZIP is an OFD only if it holds OFD.xml).
SIGNATURES = {
    b"%PDF-": PDF,
    b"\xff\xd8\xff": JPEG,
    b"\x89PNG\r\n\x1a\n": PNG,
    ZIP_SIGNATURE: OFD,
}
# States in which materials may still be added: up to the decision. After approval only a
# material promised under 容缺 may follow (it must be in before the result is handed over).
OPEN_STATES = {Status.DRAFT, Status.SUBMITTED, Status.PRE_REVIEW, Status.SUPPLEMENT,
               Status.ACCEPTED, Status.SUSPENDED, Status.HALTED}


def _is_ofd(data: bytes) -> bool:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as package:
            return "OFD.xml" in package.namelist()
    except (zipfile.BadZipFile, ValueError):
        return False


def sniff(data: bytes) -> tuple[str, str] | None:
    """(content type, file suffix) of an accepted format, judged by the bytes alone."""
    for signature, kind in SIGNATURES.items():
        if data.startswith(signature):
            if kind is OFD and not _is_ofd(data):
                return None
            return kind
    return None


def size_text(size: int) -> str:
    """``10485760`` → ``10MB``, ``1536`` → ``1.5KB``: a limit as people read it."""
    for unit, factor in (("MB", 1024 * 1024), ("KB", 1024)):
        if size >= factor:
            return f"{size / factor:.1f}".removesuffix(".0") + unit
    return f"{size}B"


# Asked at every delivery (compiled once, ``core.prepared``).
_PROMISED = prepared.Lookup(lambda pk: CaseMaterial.objects.filter(
    case_id=pk, state=CaseMaterial.State.PROMISED, superseded=False))


def outstanding_promises(case: Case) -> list[CaseMaterial]:
    """容缺 promises of the case whose material has not been supplied yet."""
    return _PROMISED.all(case.pk)


def _refuse(field: str, message: Any) -> RuleViolation:
    return RuleViolation([Problem(field, message)])


@transaction.atomic
def case_material_add(*, actor: Actor, case: Case, material: Material | None, name: str,
                      upload: IO[bytes], original_name: str, checked_at_window: bool = False,
                      expected_version: int | None = None) -> CaseMaterial:
    """Store one file for a material of the case's item version, or (``material`` None) an
    additional document named ``name``.

    A file for a material that already has one replaces it; the earlier file (or 容缺 promise)
    is kept, marked superseded. The applicant's side and the staff who receive the case may
    upload; nothing is stored when the file or the actor is refused. ``checked_at_window``: the
    clerk who received the case has seen the original (only staff may say so).
    """
    from .services.transitions import _lock  # the lock and version check every case service uses

    case = _lock(case, expected_version)
    if not (policies.is_applicant_side(actor, case) or policies.can_receive(actor, case)):
        raise AccessDenied(_("您无权为该办件提交材料"))
    if material is not None and material.version_id != case.item_version_id:
        raise _refuse("material", _("该材料不属于本办件的事项版本"))
    if checked_at_window and not policies.can_receive(actor, case):
        raise AccessDenied(_("只有受理窗口的工作人员可以确认已核验原件"))
    promised = material is not None and case.materials.filter(
        material=material, state=CaseMaterial.State.PROMISED, superseded=False).exists()
    if case.status not in OPEN_STATES and not (case.status == Status.APPROVED and promised):
        raise _refuse("case", _("办件当前状态为“%(status)s”，不能再提交材料") % {
            "status": Status(case.status).label})
    label = material.name if material is not None else name.strip()
    if not label:
        raise _refuse("name", _("须填写材料名称"))
    limit = settings.CASE_UPLOAD_MAX_BYTES
    data = upload.read(limit + 1)
    if len(data) > limit:
        raise _refuse("file", _("文件超过%(limit)s的上限") % {"limit": size_text(limit)})
    if not data:
        raise _refuse("file", _("文件为空"))
    kind = sniff(data)
    if kind is None:
        raise _refuse("file", _("只接受PDF、JPG、PNG或OFD文件（按文件内容判断，与文件名无关）"))
    content_type, suffix = kind
    digest = hashlib.sha256(data).hexdigest()
    if material is not None:
        case.materials.filter(material=material, superseded=False).update(superseded=True)
    record = CaseMaterial(
        case=case, material=material, name=label[:200],
        # Only the last part of a path the browser may send; it is shown, never used to store.
        original_name=posixpath.basename(original_name.replace("\\", "/"))[:200],
        content_type=content_type, size=len(data), sha256=digest,
        uploaded_by=account_of(actor),
        checked_at_window=checked_at_window, state=CaseMaterial.State.SUPPLIED)
    # The stored name comes from the content's digest: nothing the applicant typed reaches the
    # storage path. The storage adds a suffix if the name is taken.
    record.file.save(f"{digest[:32]}{suffix}", ContentFile(data), save=False)
    record.save()
    return record
