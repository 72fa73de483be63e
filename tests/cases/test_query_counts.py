"""Query counts of the case lists of every role, supervision and the audit log (see
``tests/query_budget.py``)."""

from __future__ import annotations

import pytest

from tests.query_budget import LARGE, SMALL, Budget, client_for
from tongban.accounts.models import User

pytestmark = pytest.mark.django_db


# --- cases: the citizen's cases and messages, the window, the workbench, supervision ----------

def test_case_lists(budget: Budget, overseers: dict[str, User]) -> None:
    from tests.cases.conftest import PROXY, TIME_LIMITED, WALK_IN, form, item
    from tests.cases.test_workbench_inbox import accepted_case, open_task
    from tongban.accounts.permissions import SYSTEM
    from tongban.cases import services
    from tongban.cases.models import Channel
    from tongban.cases.services import ApplicantData
    from tongban.cases.workflows.services import task_claim
    from tongban.supervision.models import Kind
    from tongban.supervision.services import supervision_record_open

    people = overseers

    def add_cases(count: int) -> None:
        """Per row: an accepted case the officer claimed (and a supervision record about it),
        one nobody claimed, a 代办 case the street centre received and a walk-in's draft at the
        clerk's window; each leaves its audit records."""
        for _ in range(count):
            claimed = accepted_case(people)
            task_claim(actor=people["officer"], task=open_task(claimed))
            supervision_record_open(kind=Kind.MATERIALS_BEYOND_GUIDE, case=claimed,
                                    department=claimed.department, person=people["officer"],
                                    detail={"rating": 1}, actor=SYSTEM)
            accepted_case(people)
            accepted_case(people, PROXY)
            services.case_create(actor=people["clerk"], item=item(TIME_LIMITED),
                                 channel=Channel.WINDOW, applicant=ApplicantData(**WALK_IN),
                                 form_data=form(), hall=people["clerk"].hall)

    add_cases(SMALL)
    citizen, officer, head = (client_for(people[n]) for n in ("citizen", "officer", "head"))
    clerk, proxy, supervisor = (client_for(people[n]) for n in ("clerk", "proxy", "supervisor"))
    bureau = client_for(people["bureau"])
    budget.add("page /my/cases/", citizen, "/my/cases/")
    budget.add("page /my/messages/", citizen, "/my/messages/")
    budget.add("api /cases (citizen)", citizen, "/api/v1/cases")
    budget.add("api /notifications", citizen, "/api/v1/notifications")
    budget.add("page /window/", clerk, "/window/")
    for tab in ("mine", "unclaimed", "all"):
        budget.add(f"page /workbench/?tab={tab}", officer, "/workbench/", tab=tab)
        budget.add(f"api /inbox?tab={tab}", officer, "/api/v1/inbox", tab=tab)
    budget.add("api /cases (officer)", officer, "/api/v1/cases")
    budget.add("page /workbench/ (head)", head, "/workbench/", tab="all")
    budget.add("page /workbench/head/", head, "/workbench/head/")
    budget.add("page /workbench/proxy/", proxy, "/workbench/proxy/")
    budget.add("api /cases (supervisor)", supervisor, "/api/v1/cases")
    budget.add("page /supervision/", supervisor, "/supervision/")
    budget.add("page /supervision/cases/", supervisor, "/supervision/cases/")
    budget.add("page /supervision/metrics/", supervisor, "/supervision/metrics/")
    budget.add("page /supervision/public/items/", client_for(None), "/supervision/public/items/")
    budget.add("api /supervision/metrics", supervisor, "/api/v1/supervision/metrics")
    budget.add("api /supervision/trend", supervisor, "/api/v1/supervision/trend")
    budget.add("api /supervision/board", supervisor, "/api/v1/supervision/board")
    budget.add("api /supervision/public/items", client_for(None), "/api/v1/supervision/public/items")
    budget.add("api /workflows", bureau, "/api/v1/workflows")
    budget.add("page /supervision/records/ (supervisor)", supervisor, "/supervision/records/")
    budget.add("page /supervision/records/ (officer)", officer, "/supervision/records/")
    budget.add("api /supervision/records", supervisor, "/api/v1/supervision/records")
    budget.add("page /supervision/audit/", supervisor, "/supervision/audit/")
    budget.add("api /audit/records", supervisor, "/api/v1/audit/records")
    budget.add("api /audit/checkpoints", client_for(None), "/api/v1/audit/checkpoints")
    budget.check(lambda: add_cases(LARGE - SMALL))
