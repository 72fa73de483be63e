"""Factories of the main models: the one place tests build their data.

Rows whose making carries rules are built through the same services the platform uses (a
published item is drafted, submitted and approved by ``tongban.catalog.services``); plain
reference rows (departments, halls, windows, accounts) are created directly, as an
administrator's form would store them. Each app's fixtures and helpers (``make_user``,
``make_department`` …) delegate here.

    officer = OfficerFactory.create(department=DepartmentFactory.create(name="兰州市测试局"))
    version = publish(item_data(officer.department, sequence=3, commitment="on_the_spot"))
"""

from __future__ import annotations

import itertools
from dataclasses import replace
from typing import Any

import factory
from factory.django import DjangoModelFactory
from stdnum.cn import uscc as stdnum_uscc

from tongban.accounts.models import STAFF_ROLES, Role, User
from tongban.accounts.permissions import SYSTEM
from tongban.catalog import services as catalog_services
from tongban.catalog.models import ItemVersion
from tongban.catalog.rules import ItemData, MaterialData
from tongban.organizations.models import LEVEL_DIGIT, Department, Division, Hall, Level, Window

PASSWORD = "secret-pass-123"
_serials = itertools.count(300000)


def uscc(serial: int | None = None, *, division_code: str = "620100", kind: str = "11") -> str:
    """A valid 统一社会信用代码 (GB 32100 check character) of a government body (机关) in the
    division; a fresh one unless ``serial`` is given."""
    serial = next(_serials) if serial is None else serial
    body = f"{kind}{division_code[:6]}MB{serial:07d}"
    return body + stdnum_uscc.calc_check_digit(body + "0")


def division(code: str = "620100") -> Division:
    """A division of the seeded GB/T 2260 table (the data migration loads them all)."""
    return Division.objects.get(code=code)


class DepartmentFactory(DjangoModelFactory[Department]):
    class Meta:
        model = Department

    name = factory.Sequence(lambda n: f"兰州市测试{n}局")
    uscc = factory.LazyFunction(uscc)
    division = factory.LazyFunction(division)
    level = Level.CITY


class HallFactory(DjangoModelFactory[Hall]):
    class Meta:
        model = Hall

    name = factory.Sequence(lambda n: f"测试政务服务中心{n}")
    division = factory.LazyFunction(division)


class WindowFactory(DjangoModelFactory[Window]):
    class Meta:
        model = Window

    hall = factory.SubFactory(HallFactory)
    number = factory.Sequence(lambda n: str(n + 1))
    name = "综合受理窗口"


class UserFactory(DjangoModelFactory[User]):
    """An account with the tests' password; ``real_name`` defaults to the username."""

    class Meta:
        model = User

    username = factory.Sequence(lambda n: f"user{n}")
    role = Role.CITIZEN
    real_name = factory.LazyAttribute(lambda o: o.username)

    @classmethod
    def _create(cls, model_class: Any, *args: Any, **kwargs: Any) -> User:
        return model_class.objects.create_user(*args, password=PASSWORD, **kwargs)


class CitizenFactory(UserFactory):
    role = Role.CITIZEN


class ClerkFactory(UserFactory):
    role = Role.CLERK
    hall = factory.SubFactory(HallFactory)


class OfficerFactory(UserFactory):
    role = Role.OFFICER
    department = factory.SubFactory(DepartmentFactory)


class HeadFactory(OfficerFactory):
    role = Role.HEAD


class ProxyAgentFactory(UserFactory):
    role = Role.PROXY_AGENT
    hall = factory.SubFactory(HallFactory)


class SupervisorFactory(UserFactory):
    role = Role.SUPERVISOR


class AdminFactory(UserFactory):
    """The bureau administrator as ``user_create`` makes one: allowed into the admin site."""

    role = Role.ADMIN
    is_staff = True


def staff(username: str, role: str, department: Department | None) -> User:
    """An account as the accounts service makes it: staff roles may enter the admin site."""
    return UserFactory.create(username=username, role=role, department=department,
                       is_staff=role in STAFF_ROLES)


# --- catalog items, published through the catalog services ------------------------------------

def basic_code(sequence: int, *, item_type: str = "01") -> str:
    return f"62{item_type}{sequence:08d}"


def implementation_code(department: Department, basic: str, level: str | None = None) -> str:
    return department.uscc + LEVEL_DIGIT[Level(level or department.level)] + basic


def material(name: str = "申请表", **overrides: Any) -> MaterialData:
    values: dict[str, Any] = {
        "name": name, "material_type": "original", "form": "paper", "necessity": "required",
        "source": "applicant", "original_copies": 1, "copy_copies": 0,
    }
    values.update(overrides)
    return MaterialData(**values)


def item_data(department: Department, *, sequence: int = 1, **overrides: Any) -> ItemData:
    """A valid time-limited licensing item of ``department``; override any field."""
    basic = basic_code(sequence, item_type=overrides.get("item_type", "01"))
    values: dict[str, Any] = {
        "implementation_code": implementation_code(department, basic),
        "basic_code": basic,
        "name": f"测试事项{sequence}",
        "item_type": "01",
        "department": department,
        "level": department.level,
        "commitment": "time_limited",
        "legal_limit": 20,
        "legal_limit_unit": "working_days",
        "committed_limit": 5,
        "committed_limit_unit": "working_days",
        "required_visits": 1,
        "visit_reason": "须现场核验身份",
        "online_depth": 3,
        "handling_forms": ["window", "online"],
        "service_objects": ["natural_person"],
        "topics": ["设立变更"],
        "consultation_phone": "0931-8000001",
        "complaint_phone": "0931-8000002",
        "result_type": "licence",
        "result_name": "许可证",
        "materials": [material("申请表"), material("身份证明", material_type="copy",
                                                  original_copies=0, copy_copies=1)],
    }
    values.update(overrides)
    return ItemData(**values)


def with_changes(data: ItemData, **changes: Any) -> ItemData:
    return replace(data, **changes)


def publish(data: ItemData, *, actor: Any = SYSTEM, note: str = "") -> ItemVersion:
    """Draft, submit and approve ``data``; returns the published version."""
    draft = catalog_services.item_save_draft(actor=actor, data=data, change_note=note)
    catalog_services.version_submit(actor=actor, version=draft)
    return catalog_services.version_review(actor=actor, version=draft, approve=True)



# --- cases and ratings, through the case and rating services ----------------------------------
# They need the demo catalog and the personas of ``tests/cases/conftest.py`` (``people``).

def applicant_of(user: User) -> Any:
    """The applicant data of an account holder applying for themself."""
    from tongban.cases.services import ApplicantData

    return ApplicantData(kind="natural_person", name=user.real_name, id_number=user.id_number,
                         phone=user.phone)


def submitted_case(people: dict[str, User], code: str, *, who: str = "citizen") -> Any:
    """An online application for the item ``code`` by ``people[who]``: created with the default
    form, a PDF for every material, submitted."""
    from tests.cases.conftest import form, item, pdf
    from tongban.cases import services as case_services
    from tongban.cases.materials import case_material_add
    from tongban.cases.models import Channel

    applicant = people[who]
    case = case_services.case_create(actor=applicant, item=item(code), channel=Channel.ONLINE,
                                     applicant=applicant_of(applicant), form_data=form())
    for m in case.item_version.materials.all():
        case_material_add(actor=applicant, case=case, material=m, name=m.name, upload=pdf(),
                          original_name=f"{m.name}.pdf")
    case_services.case_submit(actor=applicant, case=case)
    return case


def accepted_case(people: dict[str, User], code: str, *, by: str = "officer") -> Any:
    """:func:`submitted_case`, accepted by ``people[by]``; read afresh."""
    from tongban.cases import services as case_services
    from tongban.cases.models import Case

    case = submitted_case(people, code)
    case_services.case_accept(actor=people[by], case=case)
    return Case.objects.get(pk=case.pk)


def completed_case(people: dict[str, User], code: str, *, who: str = "citizen") -> Any:
    """An online 即收即办 application (``code``) accepted — and so completed and delivered — by
    the clerk, who served the applicant in person at the window (one visit)."""
    from tongban.cases import services as case_services
    from tongban.cases.models import Case

    case = submitted_case(people, code, who=who)
    clerk = people["clerk"]
    case_services.case_accept(actor=clerk, case=Case.objects.get(pk=case.pk), in_person=True,
                              hall=clerk.hall)
    return Case.objects.get(pk=case.pk)
