from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Router, Schema

from . import selectors
from .models import Department, Hall

router = Router(tags=["organizations"])


class DivisionOut(Schema):
    code: str
    name: str
    level: str
    parent_code: str | None


class DepartmentOut(Schema):
    id: int
    name: str
    uscc: str
    division_code: str
    division_name: str
    level: str
    parent: str | None
    consultation_phone: str
    complaint_phone: str
    address: str


def _department_out(d: Department) -> DepartmentOut:
    return DepartmentOut(
        id=d.pk, name=d.name, uscc=d.uscc, division_code=d.division.code,
        division_name=d.division.name, level=d.level,
        parent=d.parent.name if d.parent else None, consultation_phone=d.consultation_phone,
        complaint_phone=d.complaint_phone, address=d.address,
    )


@router.get("/divisions", response=list[DivisionOut], auth=None, summary="Administrative divisions")
def list_divisions(request: HttpRequest) -> list[DivisionOut]:
    return [DivisionOut(code=d.code, name=d.name, level=d.level,
                        parent_code=d.parent.code if d.parent else None)
            for d in selectors.division_list()]


@router.get("/departments", response=list[DepartmentOut], auth=None, summary="Departments")
def list_departments(request: HttpRequest, division: str | None = None,
                     level: str | None = None) -> list[DepartmentOut]:
    """Departments, optionally of one division (code, includes its sub-divisions) or level."""
    return [_department_out(d) for d in selectors.department_list(division=division, level=level)]


@router.get("/departments/{int:department_id}", response=DepartmentOut, auth=None,
            summary="One department")
def get_department(request: HttpRequest, department_id: int) -> DepartmentOut:
    return _department_out(get_object_or_404(selectors.department_list(), pk=department_id))


class OfficePeriodOut(Schema):
    starts: str
    ends: str
    season_from: str
    season_to: str


class WindowOut(Schema):
    number: str
    name: str
    is_comprehensive: bool
    departments: list[str]


class HallOut(Schema):
    id: int
    name: str
    division_code: str
    division_name: str
    department: str | None
    address: str
    phone: str
    office_periods: list[OfficePeriodOut]
    windows: list[WindowOut]


def _hall_out(h: Hall) -> HallOut:
    return HallOut(
        id=h.pk, name=h.name, division_code=h.division.code, division_name=h.division.name,
        department=h.department.name if h.department else None, address=h.address, phone=h.phone,
        office_periods=[OfficePeriodOut(starts=f"{p.starts:%H:%M}", ends=f"{p.ends:%H:%M}",
                                        season_from=p.season_from, season_to=p.season_to)
                        for p in h.office_periods.all()],
        windows=[WindowOut(number=w.number, name=w.name, is_comprehensive=w.is_comprehensive,
                           departments=[d.name for d in w.departments.all()])
                 for w in h.windows.all()],
    )


@router.get("/halls", response=list[HallOut], auth=None, summary="Service halls")
def list_halls(request: HttpRequest, division: str | None = None) -> list[HallOut]:
    """Halls with windows and office periods, optionally of one division (and those below it)."""
    return [_hall_out(h) for h in selectors.hall_list(division=division)]


@router.get("/halls/{int:hall_id}", response=HallOut, auth=None, summary="One service hall")
def get_hall(request: HttpRequest, hall_id: int) -> HallOut:
    return _hall_out(get_object_or_404(selectors.hall_list(), pk=hall_id))
