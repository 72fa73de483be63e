"""The demo directories and tasks that ``tongban load_demo`` loads."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from tests.conftest import DEMO_WORKBOOK
from tongban.accounts import services as account_services
from tongban.accounts.models import Role
from tongban.accounts.permissions import SYSTEM
from tongban.audit.models import AuditRecord
from tongban.demo.inspections import DRAFT_TASK, PUBLISHED_TASK, load_demo_inspections
from tongban.inspections.models import DrawTask, Inspector, MarketEntity, TaskStatus
from tongban.inspections.verification import verify_task
from tongban.organizations.models import Department


@pytest.mark.django_db
def test_the_demo_loads_once_and_verifies() -> None:
    call_command("import_catalog", str(DEMO_WORKBOOK), verbosity=0)
    market = Department.objects.get(name="兰州市市场监督管理局")
    for username, role, name in (("officer", Role.OFFICER, "赵强"), ("head", Role.HEAD, "刘洋")):
        fields = account_services.UserFields(username=username, role=role, real_name=name,
                                             department=market)
        account_services.user_create(actor=SYSTEM, password="x-demo-pass-1", fields=fields)
    load_demo_inspections()
    assert MarketEntity.objects.filter(department=market).count() == 60
    assert Inspector.objects.filter(department=market, active=True).count() == 12
    assert Inspector.objects.get(user__username="officer").name == "赵强"
    published = DrawTask.objects.get(name=PUBLISHED_TASK)
    assert published.status == TaskStatus.PUBLISHED
    assert published.drawn.count() == 5
    assert published.drawn.filter(inspectors__inspector__user__username="officer").count() == 2
    assert published.drawn.exclude(result="").count() == 1
    assert DrawTask.objects.get(name=DRAFT_TASK).status == TaskStatus.DRAFT
    assert verify_task(published).ok
    records = AuditRecord.objects.count()
    load_demo_inspections()
    assert DrawTask.objects.count() == 2
    assert AuditRecord.objects.count() == records
