"""The catalog quality report (事项梳理): a public page with the formulas next to the figures."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from tongban.core.access import public
from tongban.organizations.models import Division

from .. import reports
from ..forms import QualityFilterForm


@public
def quality_report(request: HttpRequest) -> HttpResponse:
    form = QualityFilterForm(request.GET or None)
    division = department = None
    if form.is_valid():
        code = form.cleaned_data["division"]
        division = Division.objects.filter(code=code).first() if code else None
        department = form.cleaned_data["department"]
    report = reports.quality_report(division=division, department=department)
    return render(request, "catalog/quality.html", {
        "form": form, "report": report, "scope": report.scope,
        "targets": {key: reports.percent(value) for key, value in settings.CATALOG_TARGETS.items()},
        "ceiling": reports.percent(1 - settings.CATALOG_TARGETS["time_reduction"]),
    })
