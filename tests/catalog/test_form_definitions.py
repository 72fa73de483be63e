"""Application form definitions (申请表) as data: checked and versioned by the bureau, in the
service and in the admin."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from tests.conftest import DEMO_WORKBOOK, make_user
from tongban.accounts.models import Role, User
from tongban.accounts.permissions import SYSTEM
from tongban.audit.models import AuditRecord
from tongban.catalog.form_definitions import (
    form_definition_deactivate,
    form_definition_save,
    item_form_fields,
)
from tongban.catalog.models import FormDefinition, Item
from tongban.core.errors import AccessDenied, RuleViolation
from tongban.organizations.models import Department

pytestmark = pytest.mark.django_db

TIME_LIMITED = "11620100051317876B3000100139001"  # 食品经营许可（新办） in the demo catalog
SIMPLE = [
    {"name": "shop_name", "label": "店铺名称", "type": "text", "required": True, "max_length": 20},
    {"name": "area", "label": "面积", "type": "number", "min": 1, "max": 500},
]


def problems(exc: pytest.ExceptionInfo[RuleViolation]) -> list[tuple[str, str]]:
    return [(p.field, str(p.message)) for p in exc.value.problems]


@pytest.fixture
def catalog(db: None) -> None:
    call_command("import_catalog", str(DEMO_WORKBOOK), verbosity=0)


def item(code: str) -> Item:
    return Item.objects.select_related("current").get(implementation_code=code)


@pytest.fixture
def bureau(catalog: None) -> User:
    return make_user("bureau", Role.ADMIN, is_staff=True)


def test_saving_a_definition_makes_a_frozen_active_version(bureau: User) -> None:
    food = item(TIME_LIMITED)
    first = form_definition_save(actor=bureau, item=food, fields=SIMPLE)
    assert (first.version, first.is_active, first.created_by) == (1, True, bureau)
    assert first.fields == [
        {"name": "shop_name", "label": "店铺名称", "type": "text", "required": True, "help_text": "",
         "data_element": "", "max_length": 20},
        {"name": "area", "label": "面积", "type": "number", "required": False, "help_text": "",
         "data_element": "", "min": 1, "max": 500},
    ]
    record = AuditRecord.objects.get(action="form_definition.save")
    assert (record.object_id, record.detail) == (
        TIME_LIMITED, {"version": 1, "fields": ["shop_name", "area"], "previous": None})

    # An edit is a new version; the first stays as it was, no longer active.
    edited = [*SIMPLE, {"name": "phone", "label": "电话", "type": "phone", "required": True}]
    second = form_definition_save(actor=bureau, item=food, fields=edited)
    first.refresh_from_db()
    assert (second.version, second.is_active, first.is_active) == (2, True, False)
    assert [f["name"] for f in first.fields] == ["shop_name", "area"]
    assert [f["name"] for f in item_form_fields(food.pk)] == ["shop_name", "area", "phone"]

    # The same fields again change nothing.
    again = form_definition_save(actor=bureau, item=food, fields=edited)
    assert again.pk == second.pk
    assert FormDefinition.objects.filter(item=food).count() == 2
    assert AuditRecord.objects.filter(action="form_definition.save").count() == 2

    # A saved version cannot be rewritten.
    second.fields = SIMPLE
    with pytest.raises(RuntimeError):
        second.save()


def test_a_faulty_definition_is_refused_with_every_problem(bureau: User) -> None:
    faulty = [
        {"name": "shop_name", "label": "店铺名称", "type": "text"},
        {"name": "shop_name", "label": "重复", "type": "text"},
        {"name": "店名", "label": "中文字段名", "type": "text"},
        {"name": "kind", "label": "类别", "type": "choice"},
        {"name": "size", "label": "规模", "type": "integer"},
        {"name": "fee", "label": "费用", "type": "amount", "min": -1},
        {"name": "count", "label": "人数", "type": "number", "max_length": 3, "min": 10, "max": 5},
        {"name": "note", "label": "", "type": "text", "colour": "red"},
        "not an object",
    ]
    with pytest.raises(RuleViolation) as exc:
        form_definition_save(actor=bureau, item=item(TIME_LIMITED), fields=faulty)
    assert problems(exc) == [
        ("fields[1].name", "字段名“shop_name”重复"),
        ("fields[2].name", "字段名须以英文字母开头，只含英文字母、数字和下划线，至多40个字符"),
        ("fields[3].options", "选项字段须列出至少一个选项（文字）"),
        ("fields[4].type", "未知的字段类型“integer”；可用的类型：text、number、date、choice、id_number、"
                           "uscc、phone、address、amount"),
        ("fields[5].min", "金额的界限不能为负数"),
        ("fields[6].max_length", "只有文本和地址字段可以限制长度"),
        ("fields[6].min", "最小值不能大于最大值"),
        ("fields[7].colour", "未知的属性“colour”；可用的属性：name、label、type、required、help_text、"
                             "data_element、max_length、min、max、options"),
        ("fields[7].label", "须填写字段标题（至多100个字）"),
        ("fields[8]", "第9个字段应为对象（含name、label、type等属性）"),
    ]
    assert not FormDefinition.objects.exists()
    assert not AuditRecord.objects.filter(action="form_definition.save").exists()


@pytest.mark.parametrize("fields, expected", [
    ([], [("fields", "申请表至少须有一个字段")]),
    ({"name": "x"}, [("fields", "申请表定义应为字段列表（JSON数组）")]),
    ([{"name": "kind", "label": "类别", "type": "choice", "options": ["甲", "甲"]}],
     [("fields[0].options", "选项不能重复")]),
    ([{"name": "kind", "label": "类别", "type": "text", "options": ["甲"]}],
     [("fields[0].options", "只有单项选择字段可以设置选项")]),
    ([{"name": "day", "label": "日期", "type": "date", "min": 1}],
     [("fields[0].min", "只有数字和金额字段可以设置最小值、最大值")]),
    ([{"name": "day", "label": "日期", "type": "date", "required": "yes"}],
     [("fields[0].required", "required 须为 true 或 false")]),
    # Bounds are finite numbers within the documented range (JSON parsers admit NaN, Infinity).
    ([{"name": "area", "label": "面积", "type": "number", "min": float("nan"),
       "max": float("inf")}],
     [("fields[0].min", "min 须为数字"), ("fields[0].max", "max 须为数字")]),
    ([{"name": "area", "label": "面积", "type": "number", "min": -10 ** 400, "max": 1e16}],
     [("fields[0].min", "min 须在-1000000000000000至1000000000000000之间"),
      ("fields[0].max", "max 须在-1000000000000000至1000000000000000之间")]),
    ([{"name": "area", "label": "面积", "type": "number", "min": -1e15, "max": 10 ** 15}], []),
    ([{"name": "fee", "label": "费用", "type": "amount", "min": 0.001, "max": 1e308}],
     [("fields[0].min", "金额的界限最多保留两位小数"),
      ("fields[0].max", "金额的界限不能大于9999999999.99")]),
])
def test_definition_rules(bureau: User, fields: Any, expected: list[tuple[str, str]]) -> None:
    if not expected:
        assert form_definition_save(actor=bureau, item=item(TIME_LIMITED), fields=fields).version == 1
        return
    with pytest.raises(RuleViolation) as exc:
        form_definition_save(actor=bureau, item=item(TIME_LIMITED), fields=fields)
    assert problems(exc) == expected


@pytest.fixture
def people(catalog: None) -> dict[str, User]:
    market = Department.objects.get(name="兰州市市场监督管理局")
    return {"officer": make_user("officer", Role.OFFICER, department=market),
            "head": make_user("head", Role.HEAD, department=market),
            "citizen": make_user("zhangsan", Role.CITIZEN, real_name="张三",
                                 id_number="620102199003077770")}


def test_only_the_bureau_edits_forms(people: dict[str, User]) -> None:
    for actor in (people["officer"], people["head"], people["citizen"]):
        with pytest.raises(AccessDenied):
            form_definition_save(actor=actor, item=item(TIME_LIMITED), fields=SIMPLE)
    assert not FormDefinition.objects.exists()
    assert not AuditRecord.objects.filter(action__startswith="form_definition").exists()


def test_deactivating_falls_back_to_the_default_form(bureau: User) -> None:
    food = item(TIME_LIMITED)
    form_definition_save(actor=bureau, item=food, fields=SIMPLE)
    form_definition_deactivate(actor=bureau, item=food)
    assert [f["name"] for f in item_form_fields(food.pk)] == ["contact_phone", "purpose", "address"]
    assert FormDefinition.objects.get(item=food).is_active is False
    assert AuditRecord.objects.filter(action="form_definition.deactivate").count() == 1
    # Saving again starts version 2 (version numbers are never reused).
    assert form_definition_save(actor=bureau, item=food, fields=SIMPLE).version == 2


# --- the admin -------------------------------------------------------------------------------

def test_bureau_edits_a_form_in_the_admin(bureau: User, client: Client) -> None:
    client.force_login(bureau)
    food = item(TIME_LIMITED)
    add = reverse("admin:catalog_formdefinition_add")
    assert client.get(add).status_code == 200

    # Faulty JSON: the problems are shown with their place; nothing is saved.
    bad = [{"name": "shop_name", "label": "店铺名称", "type": "integer"}]
    response = client.post(add, {"item": food.pk, "fields": json.dumps(bad, ensure_ascii=False)})
    assert response.status_code == 200
    assert "fields[0].type：未知的字段类型“integer”" in response.content.decode()
    response = client.post(add, {"item": food.pk, "fields": "[{"})
    assert response.status_code == 200
    unbounded = '[{"name": "area", "label": "面积", "type": "number", "max": Infinity}]'
    response = client.post(add, {"item": food.pk, "fields": unbounded})
    assert response.status_code == 200
    assert "fields[0].max：max 须为数字" in response.content.decode()
    assert not FormDefinition.objects.exists()

    response = client.post(add, {"item": food.pk, "fields": json.dumps(SIMPLE, ensure_ascii=False)})
    assert response.status_code == 302
    first = FormDefinition.objects.get(item=food)
    assert (first.version, first.created_by, len(first.fields)) == (1, bureau, 2)

    # Saving the page of version 1 with edits stores version 2; version 1 is unchanged.
    change = reverse("admin:catalog_formdefinition_change", args=[first.pk])
    page = client.get(change).content.decode()
    assert "&quot;店铺名称&quot;" in page  # indented JSON with Chinese as written
    edited = [SIMPLE[0]]
    response = client.post(change, {"fields": json.dumps(edited, ensure_ascii=False)})
    assert response.status_code == 302
    first.refresh_from_db()
    assert [d.version for d in FormDefinition.objects.filter(item=food)] == [2, 1]
    assert len(first.fields) == 2 and not first.is_active
    assert FormDefinition.objects.get(item=food, version=2).is_active
    assert AuditRecord.objects.filter(action="form_definition.save").count() == 2


def test_supervisor_may_look_but_not_edit(catalog: None, client: Client) -> None:
    form_definition_save(actor=SYSTEM, item=item(TIME_LIMITED), fields=SIMPLE)
    definition = FormDefinition.objects.get()
    supervisor = make_user("supervisor", Role.SUPERVISOR, is_staff=True)
    client.force_login(supervisor)
    change = reverse("admin:catalog_formdefinition_change", args=[definition.pk])
    assert client.get(change).status_code == 200
    response = client.post(change, {"fields": json.dumps([SIMPLE[0]])})
    assert response.status_code == 403
    assert FormDefinition.objects.count() == 1
    assert client.post(reverse("admin:catalog_formdefinition_add"), {
        "item": definition.item_id, "fields": "[]"}).status_code == 403
