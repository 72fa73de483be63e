"""Tasks, the draw, publication, results and verification."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from tongban.accounts.models import User
from tongban.accounts.permissions import SYSTEM
from tongban.audit.models import AuditRecord
from tongban.core.errors import AccessDenied, RuleViolation
from tongban.inspections import draw, services
from tongban.inspections.models import (
    DrawnEntity,
    DrawnInspector,
    DrawTask,
    InspectionItem,
    Inspector,
    ResultKind,
    TaskStatus,
)
from tongban.inspections.verification import verify_task
from tongban.organizations.models import Department

from .conftest import build_workbook, certificate, entity_rows, entity_uscc


def messages(exc: RuleViolation) -> dict[str, str]:
    return {p.field: str(p.message) for p in exc.problems}


# --- creating a task -------------------------------------------------------------------------

def test_task_rules(make_task: Callable[..., DrawTask], departments: dict[str, Department],
                    people: dict[str, User]) -> None:
    other_item = InspectionItem.objects.create(code="X-1", name="他局事项", basis="-", method="-",
                                               department=departments["district"])
    with pytest.raises(RuleViolation) as exc:
        services.task_create(actor=people["officer"], department=departments["market"],
                             fields=services.TaskFields(
            name=" ", items=[other_item], ratio_percent=Decimal(5), count=3, inspectors_per_entity=1,
            seed="xyz", risk_levels=["extreme"], division_codes=["999999"]))
    assert messages(exc.value) == {
        "name": "任务名称不能为空",
        "items": "只能选择本部门检查事项清单中的事项",
        "ratio_percent": "抽查比例和抽查户数须填写且只填写其中一项",
        "inspectors_per_entity": "每户检查人员数须在 2 到 10 之间",
        "seed": "随机种子须为 1 到 64 位十六进制数字（0-9、a-f），或留空由系统生成",
        "risk_levels": "无效的风险等级：extreme",
        "division_codes": "行政区划代码不存在：999999",
    }
    with pytest.raises(RuleViolation) as exc:
        make_task(ratio_percent=Decimal(150), count=None)
    assert messages(exc.value) == {"ratio_percent": "抽查比例须大于 0 且不超过 100"}
    assert DrawTask.objects.count() == 0


@pytest.mark.parametrize("who", ["district_officer", "supervisor", "admin", "citizen"])
def test_only_the_departments_officers_and_head_create_tasks(who: str, departments: dict[str, Department],
                                                            people: dict[str, User],
                                                            directory: dict[str, Any]) -> None:
    with pytest.raises(AccessDenied):
        services.task_create(actor=people[who], department=departments["market"], fields=services.TaskFields(
            name="抽查", items=list(InspectionItem.objects.all()[:1]), count=2))
    assert DrawTask.objects.count() == 0


# --- drawing ---------------------------------------------------------------------------------

def test_draw_stores_pools_hashes_seed_rows_and_an_audit_record(make_task: Callable[..., DrawTask],
                                                                people: dict[str, User]) -> None:
    task = make_task(ratio_percent=Decimal(10), count=None, inspectors_per_entity=3)
    task = services.task_draw(actor=people["officer2"], task=task)
    assert task.status == TaskStatus.DRAWN
    assert re.fullmatch(r"[0-9a-f]{32}", task.seed)
    assert task.algorithm == draw.ALGORITHM
    assert [e["uscc"] for e in task.entity_pool] == sorted(entity_uscc(n) for n in range(1, 31))
    # Active inspectors only, by certificate number, each with the USCCs they recuse from.
    assert [(p["certificate_number"], p["recuse"]) for p in task.inspector_pool] == [
        (certificate(1), [entity_uscc(1)]), (certificate(2), []), (certificate(3), [entity_uscc(2)]),
        (certificate(4), []), (certificate(5), []), (certificate(6), [])]
    assert task.entity_pool_hash == draw.pool_hash(task.entity_pool)
    assert task.inspector_pool_hash == draw.pool_hash(task.inspector_pool)
    drawn = list(task.drawn.order_by("position"))
    assert len(drawn) == 3  # ⌈30 × 10%⌉
    expected = draw.run_draw(entity_pool=task.entity_pool, inspector_pool=task.inspector_pool,
                             seed=task.seed, entities=3, inspectors_per_entity=3)
    assert [(d.uscc, [i.certificate_number for i in d.inspectors.all()]) for d in drawn] == [
        (r.uscc, r.inspectors) for r in expected]
    record = AuditRecord.objects.get(action="draw_task.drawn", object_id=str(task.pk))
    assert record.actor == people["officer2"]
    assert record.detail["seed"] == task.seed
    assert record.detail["entity_pool_hash"] == task.entity_pool_hash
    assert record.detail["drawn"] == [[r.uscc, r.inspectors] for r in expected]


def test_a_task_is_drawn_once(make_task: Callable[..., DrawTask], people: dict[str, User]) -> None:
    task = services.task_draw(actor=people["officer"], task=make_task(seed="abc"))
    rows = list(DrawnInspector.objects.values_list("pk", "certificate_number"))
    with pytest.raises(RuleViolation) as exc:
        services.task_draw(actor=people["head"], task=task)
    assert messages(exc.value) == {"status": "该任务已抽取，抽取结果不可更改"}
    assert list(DrawnInspector.objects.values_list("pk", "certificate_number")) == rows
    assert AuditRecord.objects.filter(action="draw_task.drawn").count() == 1


def test_a_given_seed_reproduces_the_draw(make_task: Callable[..., DrawTask],
                                          people: dict[str, User]) -> None:
    a = services.task_draw(actor=people["officer"], task=make_task(name="甲", seed="5eed"))
    b = services.task_draw(actor=people["officer"], task=make_task(name="乙", seed="5eed"))
    c = services.task_draw(actor=people["officer"], task=make_task(name="丙", seed="5eee"))

    def rows(t: DrawTask) -> list[tuple[str, list[str]]]:
        return [(d.uscc, [i.certificate_number for i in d.inspectors.all()])
                for d in t.drawn.order_by("position")]

    assert rows(a) == rows(b)
    assert rows(a) != rows(c)


def test_recusal_is_respected_and_recorded(make_task: Callable[..., DrawTask],
                                           people: dict[str, User]) -> None:
    task = services.task_draw(actor=people["officer"], task=make_task(count=30, seed="1"))
    first = task.drawn.get(uscc=entity_uscc(1))
    assert certificate(1) not in [i.certificate_number for i in first.inspectors.all()]
    assert first.recused == [{"certificate_number": certificate(1), "name": "检查员1",
                              "reason": "近亲属任法定代表人"}]
    second = task.drawn.get(uscc=entity_uscc(2))
    assert certificate(3) not in [i.certificate_number for i in second.inspectors.all()]
    assert all(d.recused == [] for d in task.drawn.exclude(uscc__in=[entity_uscc(1), entity_uscc(2)]))
    # At least two, distinct, all of the task's department, never the inactive one.
    for d in task.drawn.all():
        certs = [i.certificate_number for i in d.inspectors.all()]
        assert len(certs) == len(set(certs)) == 2
        assert certificate(7) not in certs


def test_too_few_inspectors_fails_clearly_and_saves_nothing(make_task: Callable[..., DrawTask],
                                                           people: dict[str, User]) -> None:
    task = make_task(count=30, inspectors_per_entity=6)  # 6 active; entity 1 has one recusal
    with pytest.raises(RuleViolation) as exc:
        services.task_draw(actor=people["officer"], task=task)
    message = messages(exc.value)["inspectors"]
    assert "回避后仅剩 5 名检查人员，少于每户 6 名" in message
    assert re.search(r"（(91620102MA\w+)）", message)
    task.refresh_from_db()
    assert (task.status, task.seed, task.entity_pool) == (TaskStatus.DRAFT, "", [])
    assert not DrawnEntity.objects.exists()
    assert not AuditRecord.objects.filter(action="draw_task.drawn").exists()


def test_an_empty_pool_cannot_be_drawn(make_task: Callable[..., DrawTask], people: dict[str, User]) -> None:
    task = make_task(industries=["不存在的行业"])
    with pytest.raises(RuleViolation) as exc:
        services.task_draw(actor=people["officer"], task=task)
    assert messages(exc.value) == {"entities": "没有符合筛选条件的市场主体，无法抽取"}


def test_filters_select_the_pool(make_task: Callable[..., DrawTask], people: dict[str, User]) -> None:
    task = make_task(industries=["餐饮服务"], risk_levels=["low", "high"], division_codes=["620102001000"],
                     count=1)
    task = services.task_draw(actor=people["officer"], task=task)
    # entity n: industry INDUSTRIES[n % 3], street division when n is even, risk ["低","中","高"][n % 3]
    expected = sorted(entity_uscc(n) for n in range(1, 31) if n % 3 == 0 and n % 2 == 0)
    assert [e["uscc"] for e in task.entity_pool] == expected
    # A county code takes in its streets too.
    county = services.task_draw(actor=people["officer"], task=make_task(name="区", division_codes=["620102"]))
    assert len(county.entity_pool) == 30


@pytest.mark.parametrize("who", ["district_officer", "supervisor", "citizen"])
def test_only_the_department_draws(who: str, make_task: Callable[..., DrawTask],
                                   people: dict[str, User]) -> None:
    task = make_task()
    with pytest.raises(AccessDenied):
        services.task_draw(actor=people[who], task=task)
    task.refresh_from_db()
    assert task.status == TaskStatus.DRAFT


# --- publishing ------------------------------------------------------------------------------

def test_the_head_publishes(make_task: Callable[..., DrawTask], people: dict[str, User]) -> None:
    task = make_task()
    with pytest.raises(RuleViolation):
        services.task_publish(actor=people["head"], task=task)
    task = services.task_draw(actor=people["officer"], task=task)
    with pytest.raises(AccessDenied):
        services.task_publish(actor=people["officer"], task=task)
    task.refresh_from_db()
    assert task.status == TaskStatus.DRAWN
    task = services.task_publish(actor=people["head"], task=task)
    assert task.status == TaskStatus.PUBLISHED and task.published_at is not None
    assert AuditRecord.objects.filter(action="draw_task.published", object_id=str(task.pk)).count() == 1


# --- results ---------------------------------------------------------------------------------

@pytest.fixture
def drawn_task(make_task: Callable[..., DrawTask], people: dict[str, User]) -> DrawTask:
    task = services.task_draw(actor=people["officer"], task=make_task(count=30, seed="2"))
    return services.task_publish(actor=people["head"], task=task)


def mine(task: DrawTask, user: User) -> DrawnEntity:
    entity = (DrawnEntity.objects.filter(task=task, inspectors__inspector__user=user)
              .order_by("position").first())
    assert entity is not None
    return entity


def not_mine(task: DrawTask, user: User) -> DrawnEntity:
    entity = DrawnEntity.objects.filter(task=task).exclude(inspectors__inspector__user=user).first()
    assert entity is not None
    return entity


def test_only_the_drawn_inspectors_record_a_result(drawn_task: DrawTask, people: dict[str, User]) -> None:
    today = timezone.localdate()
    target = not_mine(drawn_task, people["officer"])
    for who in ("officer", "head", "officer2", "supervisor"):
        drawn_users = set(Inspector.objects.filter(pk__in=target.inspectors.values("inspector"))
                          .values_list("user_id", flat=True))
        if people[who].pk in drawn_users:
            continue
        with pytest.raises(AccessDenied):
            services.result_record(actor=people[who], drawn=target, result=ResultKind.NO_PROBLEM,
                                   findings="", inspected_on=today)
    target.refresh_from_db()
    assert target.result == ""
    own = mine(drawn_task, people["officer"])
    services.result_record(actor=people["officer"], drawn=own, result=ResultKind.RECTIFICATION,
                           findings="未公示许可证，已责令整改", inspected_on=today)
    own.refresh_from_db()
    assert (own.result, own.findings, own.inspected_on, own.recorded_by) == (
        ResultKind.RECTIFICATION, "未公示许可证，已责令整改", today, people["officer"])
    record = AuditRecord.objects.get(action="inspection_result.recorded")
    assert record.object_id == f"{drawn_task.pk}:{own.uscc}"
    assert record.detail["result"] == "rectification"


def test_result_rules(drawn_task: DrawTask, people: dict[str, User]) -> None:
    own = mine(drawn_task, people["officer"])
    with pytest.raises(RuleViolation) as exc:
        services.result_record(actor=people["officer"], drawn=own, result="great", findings="",
                               inspected_on=timezone.localdate() + timedelta(days=1))
    assert messages(exc.value) == {"result": "请选择检查结果", "inspected_on": "检查日期不能晚于今天"}
    with pytest.raises(RuleViolation) as exc:
        services.result_record(actor=people["officer"], drawn=own, result=ResultKind.RECTIFICATION,
                               findings=" ", inspected_on=date(2000, 1, 1))
    assert messages(exc.value) == {"findings": "检查结果不是“未发现问题”时须填写检查情况",
                                   "inspected_on": "检查日期不能早于抽取日期"}
    own.refresh_from_db()
    assert own.result == ""


def test_a_complete_task_is_final(make_task: Callable[..., DrawTask], people: dict[str, User]) -> None:
    from tongban.inspections.selectors import task_complete

    task = services.task_draw(actor=people["officer"], task=make_task(count=3, seed="3"))
    today = timezone.localdate()
    for d in task.drawn.all():
        user = Inspector.objects.filter(pk__in=d.inspectors.values("inspector"), user__isnull=False).first()
        if user is None:  # give one of the drawn inspectors an account for the test
            drawn_inspector = d.inspectors.first()
            assert drawn_inspector is not None
            inspector = drawn_inspector.inspector
            inspector.user = User.objects.create_user(f"u{inspector.pk}", role="officer",
                                                      department_id=task.department_id)
            inspector.save()
            user = inspector
        assert not task_complete(task)
        assert user.user is not None
        services.result_record(actor=user.user, drawn=d, result=ResultKind.NO_PROBLEM, findings="",
                               inspected_on=today)
    assert task_complete(task)
    entity = task.drawn.first()
    assert entity is not None
    with_account = entity.inspectors.filter(inspector__user__isnull=False).first()
    assert with_account is not None
    account = Inspector.objects.get(pk=with_account.inspector_id).user
    assert account is not None
    with pytest.raises(RuleViolation) as exc:
        services.result_record(actor=account, drawn=entity,
                               result=ResultKind.FOLLOW_UP, findings="改", inspected_on=today)
    assert messages(exc.value) == {"status": "该任务的检查结果已全部录入，不可再更改"}


# --- verification ----------------------------------------------------------------------------

def test_a_clean_draw_verifies(drawn_task: DrawTask, people: dict[str, User]) -> None:
    services.result_record(actor=people["officer"], drawn=mine(drawn_task, people["officer"]),
                           result=ResultKind.NO_PROBLEM, findings="", inspected_on=timezone.localdate())
    report = verify_task(drawn_task)
    assert report.ok, report.lines()
    assert report.directories_unchanged is True
    out = io.StringIO()
    call_command("verify_draw", str(drawn_task.pk), stdout=out)
    assert out.getvalue().strip().endswith("一致")
    assert "✗" not in out.getvalue()


def run_verify(task: DrawTask) -> str:
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(CommandError, match="不一致"):
        call_command("verify_draw", str(task.pk), stdout=out, stderr=err)
    return out.getvalue()


def test_a_tampered_snapshot_is_caught(drawn_task: DrawTask) -> None:
    pool = list(drawn_task.entity_pool)
    pool[0] = {**pool[0], "name": "篡改后的名称"}
    DrawTask.objects.filter(pk=drawn_task.pk).update(entity_pool=pool)
    output = run_verify(drawn_task)
    assert "✗ 市场主体库快照哈希" in output
    assert f"记录的哈希：{drawn_task.entity_pool_hash}" in output
    assert "✓ 检查人员库快照哈希" in output


def test_a_removed_inspector_in_the_snapshot_is_caught_by_hash_and_rerun(drawn_task: DrawTask) -> None:
    DrawTask.objects.filter(pk=drawn_task.pk).update(inspector_pool=drawn_task.inspector_pool[1:])
    output = run_verify(drawn_task)
    assert "✗ 检查人员库快照哈希" in output
    assert "✗ 按种子复算抽取结果" in output


def test_a_swapped_inspector_is_caught_with_the_entity_named(drawn_task: DrawTask) -> None:
    third = drawn_task.drawn.get(position=3)
    row = third.inspectors.get(position=1)
    others = [p["certificate_number"] for p in drawn_task.inspector_pool
              if p["certificate_number"] not in {i.certificate_number for i in third.inspectors.all()}]
    DrawnInspector.objects.filter(pk=row.pk).update(certificate_number=others[0])
    output = run_verify(drawn_task)
    assert f"第3户 {third.name} 的检查人员：记录为 {others[0]}" in output
    assert "抽中主体或检查人员与审计记录" in output


def test_a_changed_seed_is_caught(drawn_task: DrawTask) -> None:
    DrawTask.objects.filter(pk=drawn_task.pk).update(seed="3")
    output = run_verify(drawn_task)
    assert "✗ 按种子复算抽取结果" in output
    assert "随机种子：审计记录为 2，现存为 3" in output


def test_a_tampered_result_is_caught(drawn_task: DrawTask, people: dict[str, User]) -> None:
    own = mine(drawn_task, people["officer"])
    services.result_record(actor=people["officer"], drawn=own, result=ResultKind.RECTIFICATION,
                           findings="后厨不洁", inspected_on=timezone.localdate())
    DrawnEntity.objects.filter(pk=own.pk).update(result=ResultKind.NO_PROBLEM, findings="")
    other = not_mine(drawn_task, people["officer"])
    DrawnEntity.objects.filter(pk=other.pk).update(result=ResultKind.NO_PROBLEM)
    output = run_verify(drawn_task)
    assert f"{own.name}（{own.uscc}）：result、findings 与审计记录不一致" in output
    assert f"{other.name}（{other.uscc}）：有检查结果，但审计日志中没有录入记录" in output


def test_directories_changing_later_is_reported_but_not_a_fault(drawn_task: DrawTask) -> None:
    services.directory_import(actor=SYSTEM, source=build_workbook({"市场主体": entity_rows(1, start=31)}))
    report = verify_task(drawn_task)
    assert report.ok
    assert report.directories_unchanged is False


def test_verify_draw_of_an_unknown_task_fails(db: None) -> None:
    with pytest.raises(CommandError, match="抽查任务 999 不存在"):
        call_command("verify_draw", "999")
