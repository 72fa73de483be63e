"""Catalog pages of the government services bureau: loading a catalog workbook."""

from __future__ import annotations

import zipfile
from typing import Any

import openpyxl
from django import forms
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from tongban.accounts.models import Role
from tongban.core.access import require_roles
from tongban.core.errors import AccessDenied

from ..workbook import WorkbookRejected, catalog_import_workbook, report_lines

ZIP_MAGIC = b"PK\x03\x04"
# A workbook compresses text about tenfold; far more than that is a zip bomb, not a catalog.
MAX_EXPANSION = 50


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f}".removesuffix(".0")


class WorkbookUploadForm(forms.Form):
    file = forms.FileField(label=_("目录工作簿（.xlsx）"))
    dry_run = forms.BooleanField(label=_("只校验不导入 (dry run)"), required=False)

    def clean_file(self) -> UploadedFile[bytes]:
        upload: UploadedFile[bytes] = self.cleaned_data["file"]
        limit = settings.CATALOG_UPLOAD_MAX_BYTES
        if upload.size is not None and upload.size > limit:
            raise ValidationError(_("文件过大（上限 %(mb)s MB）"), params={"mb": _megabytes(limit)})
        not_xlsx = ValidationError(_("文件不是 Excel 工作簿（.xlsx）"))
        upload.seek(0)
        if upload.read(len(ZIP_MAGIC)) != ZIP_MAGIC:
            raise not_xlsx
        try:
            upload.seek(0)
            with zipfile.ZipFile(upload) as archive:
                expanded = sum(info.file_size for info in archive.infolist())
            if expanded > limit * MAX_EXPANSION:
                raise ValidationError(_("文件解压后过大，不像是事项目录工作簿"))
            upload.seek(0)
            openpyxl.load_workbook(upload, read_only=True).close()
        except ValidationError:
            raise
        except Exception as exc:  # any zip or XML failure: the content is not a workbook
            raise not_xlsx from exc
        upload.seek(0)
        return upload


def _context(form: WorkbookUploadForm, *, file_errors: list[Any] | None = None,
             **extra: Any) -> dict[str, Any]:
    errors = file_errors if file_errors is not None else (
        list(form.errors.get("file", [])) if form.is_bound else [])
    return {"form": form, "file_errors": errors,
            "max_mb": _megabytes(settings.CATALOG_UPLOAD_MAX_BYTES), **extra}


@require_roles(Role.ADMIN)
def catalog_import(request: HttpRequest) -> HttpResponse:
    """Upload a catalog workbook; show what changed, or every fault of a rejected file."""
    if request.method != "POST":
        return render(request, "catalog/import.html", _context(WorkbookUploadForm()))
    # Refuse an oversized body before it is read (the form's check would come after).
    declared = int(request.META.get("CONTENT_LENGTH") or 0)
    if declared > settings.CATALOG_UPLOAD_MAX_BYTES + 64 * 1024:
        error = _("文件过大（上限 %(mb)s MB）") % {"mb": _megabytes(settings.CATALOG_UPLOAD_MAX_BYTES)}
        return render(request, "catalog/import.html",
                      _context(WorkbookUploadForm(), file_errors=[error]), status=413)
    form = WorkbookUploadForm(request.POST, request.FILES)
    if not form.is_valid():
        return render(request, "catalog/import.html", _context(form), status=400)
    upload: UploadedFile[bytes] = form.cleaned_data["file"]
    name = upload.name or "workbook.xlsx"
    try:
        report = catalog_import_workbook(actor=request.user, source=upload, name=name,
                                         dry_run=form.cleaned_data["dry_run"])
    except AccessDenied as exc:
        raise PermissionDenied from exc
    except WorkbookRejected as rejected:
        return render(request, "catalog/import_result.html",
                      _context(WorkbookUploadForm(), name=name, rejected=rejected), status=422)
    return render(request, "catalog/import_result.html",
                  _context(WorkbookUploadForm(), name=name, report=report,
                           summary=report_lines(report)))
