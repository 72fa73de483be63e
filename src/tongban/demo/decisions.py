"""The demo city's automatic decisions (秒批): published rule sets for three items, with the
application forms they read and the exchange grant the pension item's rules need.

- 户口迁入（人才引进、大中专毕业生落户）(兰州市公安局): age from the ID number, the diploma, the
  destination and the housing as filled in;
- 食品经营许可（变更）(兰州市市场监督管理局): the licence number, a change that needs no site
  inspection, the legal representative checked against 户籍人口基本信息 (LZ-GA-0001) under the
  market bureau's grant;
- 城乡居民基本养老保险参保登记 (兰州市人力资源和社会保障局): age from the ID number, the
  applicant enrolling themself, 户籍 in 兰州市 and the name read from LZ-GA-0001 under a grant
  this module files for the human resources bureau (as its data officer would).

Each rule set is a JDM graph of the common shape (``decisions.engine.jdm_all_of``) with its
condition labels and test cases, saved and published through the services (the tests run
before publishing). Running it again changes nothing: an item that has a rule set is left alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db import transaction

from tongban.accounts.models import Role, User
from tongban.accounts.permissions import SYSTEM
from tongban.catalog.form_definitions import form_definition_save
from tongban.catalog.models import Item
from tongban.decisions import engine
from tongban.decisions.models import RuleSet
from tongban.decisions.services.rule_sets import RuleSetData, rule_set_publish, rule_set_save
from tongban.exchange.models import Grant, Resource
from tongban.exchange.services import sharing
from tongban.organizations.models import Department

from .data_sharing import officer_of

HUKOU_MOVE_IN = "11620100MB202820XH3000100204002"  # 户口迁入（人才引进、大中专毕业生落户）
FOOD_CHANGE = "11620100051317876B3000100139002"  # 食品经营许可（变更）
PENSION_ENROLMENT = "11620100051760018C3002000165004"  # 城乡居民基本养老保险参保登记
PEOPLE = "LZ-GA-0001"  # 户籍人口基本信息
HRSS = "兰州市人力资源和社会保障局"

EDUCATION = ["博士研究生", "硕士研究生", "大学本科", "大学专科", "中等职业学校"]
HOUSING = ["本人或直系亲属自有住房", "用人单位集体户", "人才集体户"]
QUICK_CHANGES = ["经营者名称", "法定代表人（负责人）", "住所（非经营场所）", "联系方式"]

FORMS: dict[str, list[dict[str, Any]]] = {
    HUKOU_MOVE_IN: [
        {"name": "education", "label": "学历", "type": "choice", "required": True,
         "options": [*EDUCATION, "其他"]},
        {"name": "school", "label": "毕业院校", "type": "text", "required": True,
         "max_length": 100},
        {"name": "graduation_date", "label": "毕业日期", "type": "date", "required": True,
         "help_text": "以毕业证书载明的日期为准"},
        {"name": "employer", "label": "就业（接收）单位", "type": "text", "required": False,
         "max_length": 100},
        {"name": "move_to_address", "label": "拟迁入地址", "type": "address", "required": True,
         "help_text": "填写到门牌号，如：兰州市城关区皋兰路1号"},
        {"name": "housing", "label": "落户方式", "type": "choice", "required": True,
         "options": [*HOUSING, "租赁住房"]},
        {"name": "contact_phone", "label": "联系电话", "type": "phone", "required": True,
         "data_element": "DE00011"},
    ],
    FOOD_CHANGE: [
        {"name": "licence_number", "label": "食品经营许可证编号", "type": "text",
         "required": True, "max_length": 16, "help_text": "JY 开头的16位编号"},
        {"name": "business_name", "label": "经营者名称", "type": "text", "required": True,
         "max_length": 100, "data_element": "DE00020"},
        {"name": "legal_representative", "label": "法定代表人（负责人）", "type": "text",
         "required": True, "max_length": 50, "data_element": "DE00022"},
        {"name": "legal_representative_id", "label": "法定代表人身份证号", "type": "id_number",
         "required": True, "data_element": "DE00002"},
        {"name": "change_item", "label": "变更事项", "type": "choice", "required": True,
         "options": [*QUICK_CHANGES, "经营场所", "经营项目"]},
        {"name": "after_change", "label": "变更后内容", "type": "text", "required": True,
         "max_length": 500},
        {"name": "contact_phone", "label": "联系电话", "type": "phone", "required": True,
         "data_element": "DE00011"},
    ],
}


@dataclass
class DemoRules:
    item: str
    name: str
    # condition key → (label in plain Chinese, ZEN expression)
    conditions: dict[str, tuple[str, str]]
    tests: list[dict[str, Any]]
    exchange: list[dict[str, Any]] = field(default_factory=list)
    note: str = ""


def _listed(values: list[str]) -> str:
    return "[" + ", ".join(f"'{v}'" for v in values) + "]"


ZHANG = {"kind": "natural_person", "id_number": "620102199001011233", "name": "张明",
         "age": 36, "division": "620102"}
HUKOU_FORM = {"education": "大学本科", "school": "兰州大学", "graduation_date": "2012-06-30",
              "move_to_address": "兰州市城关区皋兰路1号", "housing": "人才集体户",
              "contact_phone": "13812345678"}
FOOD_FORM = {"licence_number": "JY16201020001234", "business_name": "兰州示例餐饮有限公司",
             "legal_representative": "张明", "legal_representative_id": "620102199001011233",
             "change_item": "法定代表人（负责人）", "after_change": "张明",
             "contact_phone": "13912345678"}
PENSION_FORM = {"insured_name": "张明", "insured_id": "620102199001011233",
                "household_address": "兰州市城关区皋兰路1号", "contribution_grade": "500",
                "contact_phone": "13812345678"}
FOUND_ZHANG = {"found": True, "name": "张明", "address": "兰州市城关区皋兰路1号"}


def _case(title: str, approve: bool, /, *, form: dict[str, Any],
          applicant: dict[str, Any] | None = None, exchange: dict[str, Any] | None = None,
          **conditions: bool) -> dict[str, Any]:
    """A test case: its input document and the outcome (and conditions) it must give."""
    expect: dict[str, Any] = {"approve": approve,
                              **{f"conditions.{k}": v for k, v in conditions.items()}}
    return {"name": title, "input": {"form": form, "applicant": applicant or ZHANG,
                                    "exchange": exchange or {}, "today": "2026-12-07"},
            "expect": expect}


RULES = [
    DemoRules(
        HUKOU_MOVE_IN, "户口迁入（人才引进、大中专毕业生落户）秒批规则",
        {"age": ("申请人年龄在18至45周岁之间（依公民身份号码计算）",
                 "(applicant.age ?? 0) >= 18 and (applicant.age ?? 99) <= 45"),
         "education": ("学历为全日制中等职业学校及以上", f"form.education in {_listed(EDUCATION)}"),
         "graduated": ("已毕业（毕业日期不晚于申请当日）",
                       "date(form.graduation_date ?? '2999-12-31') <= date(today)"),
         "destination": ("拟迁入地址在兰州市", "startsWith(form.move_to_address ?? '', '兰州市')"),
         "housing": ("有自有住房或可落集体户", f"form.housing in {_listed(HOUSING)}")},
        [_case("本科毕业、落人才集体户", True, form=HUKOU_FORM),
         _case("年龄超过45周岁", False, form=HUKOU_FORM,
               applicant={**ZHANG, "age": 46}, age=False),
         _case("租赁住房须人工审核", False, form={**HUKOU_FORM, "housing": "租赁住房"},
               housing=False),
         _case("尚未毕业", False, form={**HUKOU_FORM, "graduation_date": "2027-06-30"},
               graduated=False),
         _case("迁入地不在兰州", False, form={**HUKOU_FORM, "move_to_address": "天水市秦州区"},
               destination=False)],
        note="依据《甘肃省深化户籍制度改革实施意见》，人才引进和大中专毕业生落户条件明确、可即时核验。"),
    DemoRules(
        FOOD_CHANGE, "食品经营许可（变更）秒批规则",
        {"licence": ("原食品经营许可证编号格式正确（JY 开头的16位编号）",
                     "matches(form.licence_number ?? '', '^JY[1-3][0-9]{13}$')"),
         "quick": ("变更事项不涉及经营场所或经营项目（无需现场核查）",
                   f"form.change_item in {_listed(QUICK_CHANGES)}"),
         "representative": ("法定代表人（负责人）身份与户籍人口信息一致",
                            "exchange.representative.found == true and "
                            "(exchange.representative.name ?? '') == form.legal_representative")},
        [_case("变更法定代表人", True, form=FOOD_FORM,
               exchange={"representative": {"found": True, "name": "张明"}}),
         _case("变更经营场所须现场核查", False, form={**FOOD_FORM, "change_item": "经营场所"},
               exchange={"representative": {"found": True, "name": "张明"}}, quick=False),
         _case("法定代表人姓名与户籍不符", False, form=FOOD_FORM,
               exchange={"representative": {"found": True, "name": "张敏"}}, representative=False),
         _case("户籍中查无此人", False, form=FOOD_FORM,
               exchange={"representative": {"found": False}}, representative=False),
         _case("许可证编号有误", False, form={**FOOD_FORM, "licence_number": "SP1234"},
               exchange={"representative": {"found": True, "name": "张明"}}, licence=False)],
        exchange=[{"name": "representative", "resource": PEOPLE, "items": ["name"],
                   "subject": "form.legal_representative_id"}],
        note="不涉及经营场所和经营项目的变更无需现场核查（《食品经营许可和备案管理办法》）。"),
    DemoRules(
        PENSION_ENROLMENT, "城乡居民基本养老保险参保登记秒批规则",
        {"age": ("参保人年满16周岁、未满60周岁（依公民身份号码计算）",
                 "(applicant.age ?? 0) >= 16 and (applicant.age ?? 99) < 60"),
         "self": ("参保人为申请人本人", "form.insured_id == applicant.id_number"),
         "household": ("户籍人口信息中查得参保人，户籍在兰州市",
                       "exchange.hukou.found == true and "
                       "startsWith(exchange.hukou.address ?? '', '兰州市')"),
         "name": ("参保人姓名与户籍登记一致", "(exchange.hukou.name ?? '') == form.insured_name")},
        [_case("兰州户籍本人参保", True, form=PENSION_FORM, exchange={"hukou": FOUND_ZHANG}),
         _case("未满16周岁", False, form=PENSION_FORM, applicant={**ZHANG, "age": 15},
               exchange={"hukou": FOUND_ZHANG}, age=False),
         _case("年满60周岁", False, form=PENSION_FORM, applicant={**ZHANG, "age": 60},
               exchange={"hukou": FOUND_ZHANG}, age=False),
         _case("为他人登记须人工审核", False,
               form={**PENSION_FORM, "insured_id": "620102199003077770"},
               exchange={"hukou": FOUND_ZHANG}, self=False),
         _case("外地户籍", False, form=PENSION_FORM,
               exchange={"hukou": {**FOUND_ZHANG, "address": "天水市秦州区民主路3号"}},
               household=False),
         _case("户籍中查无此人", False, form=PENSION_FORM, exchange={"hukou": {"found": False}},
               household=False, name=False)],
        exchange=[{"name": "hukou", "resource": PEOPLE, "items": ["name", "address"],
                   "subject": "form.insured_id"}],
        note="户籍地参保：户籍信息经数据共享交换平台核验，免于提交户口簿。"),
]


def _hrss_grant() -> None:
    """The human resources bureau's grant for 户籍人口基本信息 (name and 户籍地址), filed,
    checked and answered through the exchange's services; once."""
    hrss = Department.objects.filter(name=HRSS).first()
    resource = Resource.objects.filter(code=PEOPLE).select_related("provider").first()
    if hrss is None or resource is None or Grant.objects.filter(
            consumer=hrss, resource=resource, revoked_at=None).exists():
        return
    items = [PENSION_ENROLMENT] if Item.objects.filter(
        implementation_code=PENSION_ENROLMENT).exists() else []
    demand = sharing.data_request_file(
        actor=officer_of(hrss), department=hrss, resource=resource,
        field_keys=["name", "address"],
        purpose="城乡居民基本养老保险参保登记核验参保人户籍（秒批），免于提交户口簿",
        legal_basis="《中华人民共和国社会保险法》第二十条；《甘肃省政务数据共享管理办法》",
        scenarios="城乡居民基本养老保险参保登记自动审批时核验户籍所在地", related_items=items)
    bureau = User.objects.filter(username="data").first() or SYSTEM
    sharing.data_request_check(actor=bureau, request=demand)
    sharing.data_request_answer(actor=officer_of(resource.provider), request=demand,
                                approve=True, reason="同意按授权范围共享")


@transaction.atomic
def load_demo_decisions() -> None:
    """The forms, the grant and the published rule sets (items missing from a custom
    workbook are skipped)."""
    bureau = User.objects.filter(username="admin", role=Role.ADMIN).first() or SYSTEM
    for code, fields in FORMS.items():
        item = Item.objects.filter(implementation_code=code).first()
        if item is not None:
            form_definition_save(actor=SYSTEM, item=item, fields=fields)
    _hrss_grant()
    for rules in RULES:
        item = Item.objects.filter(implementation_code=rules.item).first()
        if item is None or RuleSet.objects.filter(item=item).exists():
            continue
        data = RuleSetData(
            name=rules.name, jdm=engine.jdm_all_of({k: e for k, (_t, e) in rules.conditions.items()}),
            conditions={k: t for k, (t, _e) in rules.conditions.items()},
            exchange=rules.exchange, tests=rules.tests, note=rules.note)
        rule_set_publish(actor=bureau, rule_set=rule_set_save(actor=bureau, item=item, data=data))
