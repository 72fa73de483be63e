"""Fixtures for rating tests: the case personas (tests/cases) and completed cases to rate."""

from __future__ import annotations

from typing import Any

import pytest

from tests import factories
from tests.cases import conftest as cases_conftest
from tests.cases.conftest import ON_THE_SPOT, ApiClient, form, item, pdf
from tongban.accounts.models import User
from tongban.cases.models import Case
from tongban.cases.services import ApplicantData

# The case tests' fixtures, for this directory too.
catalog = cases_conftest.catalog
people = cases_conftest.people
overseers = cases_conftest.overseers
api = cases_conftest.api

__all__ = ["ApiClient", "api", "catalog", "form", "item", "overseers", "pdf", "people"]


def applicant(user: User) -> ApplicantData:
    return ApplicantData(kind="natural_person", name=user.real_name, id_number=user.id_number,
                         phone=user.phone)


def completed_case(people: dict[str, User], who: str = "citizen") -> Case:
    """An online 即收即办 application accepted — and so completed and delivered — by the clerk,
    who served the applicant in person at the window (one visit)."""
    case: Case = factories.completed_case(people, ON_THE_SPOT, who=who)
    return case


@pytest.fixture
def done(people: dict[str, User]) -> Case:
    return completed_case(people)


ONLINE_INDICATORS = {"efficiency": 2, "guide_accuracy": 2, "convenience": 3, "usability": 3}
ON_SITE_INDICATORS = {"service_efficiency": 4, "service_level": 5, "service_attitude": 5}


def bad(**extra: Any) -> dict[str, Any]:
    return {"level": 1, "indicators": ONLINE_INDICATORS, "tags": ["overdue_without_reason"],
            "text": "等了很久", **extra}
