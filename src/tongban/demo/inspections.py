"""Demo data of 双随机一公开 for ``tongban load_demo``: the directories of 兰州市市场监督管理局
(60 market entities, 13 inspectors of whom the demo accounts ``officer`` and ``head`` are two,
declared conflicts, inspection items) and two tasks — one drawn, published and partly inspected,
one waiting to be drawn. Running it again changes nothing.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from django.utils import timezone

from tongban.accounts.models import User
from tongban.accounts.permissions import SYSTEM
from tongban.inspections import services
from tongban.inspections.models import DrawnEntity, DrawTask, InspectionItem, ResultKind
from tongban.organizations.models import Department

DEMO_WORKBOOK = Path(__file__).resolve().parent / "data" / "demo-inspections.xlsx"
DEPARTMENT = "兰州市市场监督管理局"
PUBLISHED_TASK = "2025年第一批餐饮服务经营者双随机抽查"
DRAFT_TASK = "2025年第二批食品销售经营者双随机抽查"
# Chosen so that the demo officer is drawn for two entities and the head for one.
PUBLISHED_SEED = "7a3f1c9e5b2d4086a1e3c5f7092b6c5d"


def load_demo_inspections() -> None:
    """Import the demo directories and create the demo tasks that do not exist yet."""
    services.directory_import(actor=SYSTEM, source=DEMO_WORKBOOK, name=DEMO_WORKBOOK.name)
    department = Department.objects.filter(name=DEPARTMENT).first()
    officer = User.objects.filter(username="officer", department=department).first()
    head = User.objects.filter(username="head", department=department).first()
    if department is None or officer is None or head is None:
        return
    if not DrawTask.objects.filter(name=PUBLISHED_TASK).exists():
        items = list(InspectionItem.objects.filter(
            code__in=["SJ-620100-SC-001", "SJ-620100-SC-002", "SJ-620100-SC-005"]))
        task = services.task_create(actor=officer, department=department, fields=services.TaskFields(
            name=PUBLISHED_TASK, items=items, industries=["餐饮服务"], ratio_percent=Decimal(20),
            seed=PUBLISHED_SEED))
        task = services.task_draw(actor=officer, task=task)
        services.task_publish(actor=head, task=task)
        _record_some_results(task, officer)
    if not DrawTask.objects.filter(name=DRAFT_TASK).exists():
        items = list(InspectionItem.objects.filter(code__in=["SJ-620100-SC-001", "SJ-620100-SC-003"]))
        services.task_create(actor=officer, department=department, fields=services.TaskFields(
            name=DRAFT_TASK, items=items, industries=["食品销售"], count=4))


def _record_some_results(task: DrawTask, officer: User) -> None:
    """The officer records the result of the first entity they were drawn for; the other
    one is left for whoever tries the demo."""
    drawn = (DrawnEntity.objects.filter(task=task, inspectors__inspector__user=officer)
             .order_by("position").first())
    if drawn is not None:
        services.result_record(actor=officer, drawn=drawn, result=ResultKind.RECTIFICATION,
                               findings="后厨生熟食品未分开存放，已当场责令整改，三日内复查。",
                               inspected_on=timezone.localdate())
