"""``tongban load_demo``: the demo city — catalog, halls with windows, one account per role, and
the application forms of the items the demo journeys use.

For trying the platform out on a development machine only: it refuses to run unless
``TONGBAN_DEBUG`` is on, because every demo account shares one published password. Running it
again changes nothing: the catalog import skips unchanged items, halls and windows are saved
through services that write only differences, and existing accounts are left alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils.translation import gettext as _

from tongban.accounts import services as account_services
from tongban.accounts.models import Role, User
from tongban.accounts.permissions import SYSTEM
from tongban.catalog.form_definitions import form_definition_save
from tongban.catalog.models import Item
from tongban.demo.data_elements import load_data_elements
from tongban.demo.data_resources import load_data_resources
from tongban.demo.data_sharing import load_data_sharing
from tongban.demo.decisions import load_demo_decisions
from tongban.demo.inspections import load_demo_inspections
from tongban.demo.licences import load_demo_licences
from tongban.demo.queues import load_demo_categories
from tongban.organizations import services as org_services
from tongban.organizations.models import Department, Division, Hall, Window

DEMO_PASSWORD = "tongban-demo"
DEMO_WORKBOOK = Path(__file__).resolve().parents[2] / "data" / "demo-catalog.xlsx"
DEMO_LICENCE_TYPES = Path(__file__).resolve().parents[2] / "data" / "demo-licence-types.json"
OFFICE_PERIODS = [
    org_services.PeriodFields(time(9, 0), time(12, 0)),
    org_services.PeriodFields(time(13, 30), time(17, 30)),
]
CITY_HALL = "兰州市政务服务中心"
STREET_HALL = "城关区皋兰路街道便民服务中心"
MARKET_BUREAU = "兰州市市场监督管理局"
DATA_BUREAU = "兰州市大数据管理局"


@dataclass
class DemoWindow:
    number: str
    name: str
    departments: tuple[str, ...] = ()  # none: a comprehensive window (综合窗口)


@dataclass
class DemoHall:
    name: str
    division_code: str
    department: str  # managing department; its address and phone are the hall's
    windows: list[DemoWindow]


def _district_windows(district: str) -> list[DemoWindow]:
    return [
        DemoWindow("1", "综合受理窗口"), DemoWindow("2", "综合受理窗口"),
        DemoWindow("3", "市场监管窗口", (f"{district}市场监督管理局",)),
        DemoWindow("4", "民政窗口", (f"{district}民政局",)),
        DemoWindow("5", "人社窗口", (f"{district}人力资源和社会保障局",)),
    ]


def _street_windows(centre: str) -> list[DemoWindow]:
    return [DemoWindow("1", "综合受理窗口"), DemoWindow("2", "代办服务窗口", (centre,))]


HALLS = [
    DemoHall(CITY_HALL, "620100", "兰州市政务服务管理局", [
        DemoWindow("1", "综合受理窗口"), DemoWindow("2", "综合受理窗口"),
        DemoWindow("3", "综合受理窗口"),
        DemoWindow("4", "企业开办窗口", (MARKET_BUREAU, "兰州市税务局")),
        DemoWindow("5", "公安户政窗口", ("兰州市公安局",)),
        DemoWindow("6", "社保医保窗口", ("兰州市人力资源和社会保障局", "兰州市医疗保障局")),
        DemoWindow("7", "公积金窗口", ("兰州市住房公积金管理中心",)),
        DemoWindow("8", "不动产登记窗口", ("兰州市自然资源局",)),
        DemoWindow("9", "综合出件窗口"),
    ]),
    DemoHall("城关区政务服务中心", "620102", "城关区政务服务中心", _district_windows("城关区")),
    DemoHall("七里河区政务服务中心", "620103", "七里河区政务服务中心", _district_windows("七里河区")),
    DemoHall("安宁区政务服务中心", "620105", "安宁区政务服务中心", _district_windows("安宁区")),
    *[DemoHall(name, code, name, _street_windows(name)) for name, code in (
        (STREET_HALL, "620102001000"),
        ("城关区东岗西路街道便民服务中心", "620102004000"),
        ("七里河区西园街道便民服务中心", "620103001000"),
        ("七里河区敦煌路街道便民服务中心", "620103003000"),
        ("安宁区培黎街道便民服务中心", "620105001000"),
        ("安宁区刘家堡街道便民服务中心", "620105005000"),
    )],
]


@dataclass
class DemoAccount:
    username: str
    role: str
    real_name: str
    department: str = ""
    hall: str = ""
    id_number: str = ""
    phone: str = ""
    uscc: str = ""
    legal_representative: str = ""


ACCOUNTS = [
    DemoAccount("citizen", Role.CITIZEN, "张明", id_number="620102199001011233", phone="13812345678"),
    DemoAccount("enterprise", Role.ENTERPRISE, "兰州示例餐饮有限公司", uscc="91620102MA7123456T",
                legal_representative="李华", phone="13912345678"),
    DemoAccount("clerk", Role.CLERK, "王芳", hall=CITY_HALL),
    DemoAccount("officer", Role.OFFICER, "赵强", department=MARKET_BUREAU),
    DemoAccount("head", Role.HEAD, "刘洋", department=MARKET_BUREAU),
    # 代办服务 items of the demo journeys are decided by the city's human resources bureau.
    DemoAccount("hr_officer", Role.OFFICER, "钱伟", department="兰州市人力资源和社会保障局"),
    DemoAccount("hr_head", Role.HEAD, "郑红", department="兰州市人力资源和社会保障局"),
    DemoAccount("proxy", Role.PROXY_AGENT, "陈静", hall=STREET_HALL),
    DemoAccount("supervisor", Role.SUPERVISOR, "周敏", department="兰州市政务服务管理局"),
    DemoAccount("data", Role.DATA_OFFICER, "孙磊", department="兰州市大数据管理局"),
    # Departments' own data officers: a consumer of shared data and a provider.
    DemoAccount("market_data", Role.DATA_OFFICER, "马丽", department=MARKET_BUREAU),
    DemoAccount("police_data", Role.DATA_OFFICER, "杜军", department="兰州市公安局"),
    DemoAccount("admin", Role.ADMIN, "吴刚", department="兰州市政务服务管理局"),
]


def _department(name: str) -> Department:
    try:
        return Department.objects.get(name=name)
    except Department.DoesNotExist:
        raise CommandError(_("演示目录中缺少部门“%(name)s”") % {"name": name}) from None


def load_halls() -> None:
    """Create or bring up to date the demo halls, their office periods and windows."""
    for demo in HALLS:
        manager = _department(demo.department)
        hall = org_services.hall_save(
            actor=SYSTEM, hall=Hall.objects.filter(name=demo.name).first(),
            fields=org_services.HallFields(
                name=demo.name, division=Division.objects.get(code=demo.division_code),
                department=manager, address=manager.address, phone=manager.consultation_phone,
                office_periods=OFFICE_PERIODS))
        for w in demo.windows:
            org_services.window_save(
                actor=SYSTEM, window=Window.objects.filter(hall=hall, number=w.number).first(),
                fields=org_services.WindowFields(
                    hall=hall, number=w.number, name=w.name, is_comprehensive=not w.departments,
                    departments=[_department(name) for name in w.departments]))


def load_accounts() -> None:
    """Create the demo accounts that do not exist yet (existing ones are left as they are)."""
    for demo in ACCOUNTS:
        if User.objects.filter(username=demo.username).exists():
            continue
        account_services.user_create(actor=SYSTEM, password=DEMO_PASSWORD, fields=account_services.UserFields(
            username=demo.username, role=demo.role, real_name=demo.real_name,
            department=_department(demo.department) if demo.department else None,
            hall=Hall.objects.get(name=demo.hall) if demo.hall else None,
            id_number=demo.id_number, phone=demo.phone, uscc=demo.uscc,
            legal_representative=demo.legal_representative))


# Application forms of the items used in the demo journeys (implementation code → fields);
# the other items use the default form. ``data_element`` binds a field to a published data
# element of the demo dictionary (``exchange/data/demo-elements.csv``).
FOOD_BUSINESS = "11620100051317876B3000100139001"  # 食品经营许可（新办）
COMPANY_SETUP = "11620100051317876B3000100113001"  # 企业设立登记
COMPANY_CHANGE = "11620100051317876B3000100113002"  # 企业变更登记
PENSION_ENROLMENT = "11620100051760018C3002000165004"  # 城乡居民基本养老保险参保登记
DEMO_FORMS: dict[str, list[dict[str, Any]]] = {
    FOOD_BUSINESS: [
        {"name": "business_name", "label": "经营者名称", "type": "text", "required": True,
         "max_length": 100, "help_text": "与营业执照上的名称一致", "data_element": "DE00020"},
        {"name": "uscc", "label": "统一社会信用代码", "type": "uscc", "required": True,
         "data_element": "DE00021"},
        {"name": "legal_representative", "label": "法定代表人（负责人）", "type": "text",
         "required": True, "max_length": 50, "data_element": "DE00022"},
        {"name": "legal_representative_id", "label": "法定代表人身份证号", "type": "id_number",
         "required": True, "data_element": "DE00002"},
        {"name": "premises", "label": "经营场所", "type": "address", "required": True,
         "help_text": "填写到门牌号，如：兰州市城关区庆阳路100号", "data_element": "DE00024"},
        {"name": "business_item", "label": "经营项目", "type": "choice", "required": True,
         "options": ["预包装食品销售", "散装食品销售", "热食类食品制售", "冷食类食品制售",
                     "自制饮品制售", "糕点类食品制售"]},
        {"name": "floor_area", "label": "营业面积（平方米）", "type": "number", "required": True,
         "min": 1, "max": 100000},
        {"name": "contact_phone", "label": "联系电话", "type": "phone", "required": True,
         "data_element": "DE00011"},
        {"name": "opening_date", "label": "计划开业日期", "type": "date", "required": False},
    ],
    COMPANY_SETUP: [
        {"name": "company_name", "label": "企业名称", "type": "text", "required": True,
         "max_length": 100, "help_text": "已通过自主申报的企业名称", "data_element": "DE00020"},
        {"name": "company_type", "label": "企业类型", "type": "choice", "required": True,
         "options": ["有限责任公司", "股份有限公司", "个人独资企业", "合伙企业"]},
        {"name": "legal_representative", "label": "法定代表人", "type": "text", "required": True,
         "max_length": 50, "data_element": "DE00022"},
        {"name": "legal_representative_id", "label": "法定代表人身份证号", "type": "id_number",
         "required": True, "data_element": "DE00002"},
        {"name": "domicile", "label": "住所", "type": "address", "required": True,
         "data_element": "DE00024"},
        {"name": "registered_capital", "label": "注册资本（万元）", "type": "amount",
         "required": True, "min": 0.01, "data_element": "DE00023"},
        {"name": "business_scope", "label": "经营范围", "type": "text", "required": True,
         "max_length": 1000},
        {"name": "contact_phone", "label": "联系电话", "type": "phone", "required": True,
         "data_element": "DE00011"},
    ],
    COMPANY_CHANGE: [
        {"name": "company_name", "label": "企业名称", "type": "text", "required": True,
         "max_length": 100, "data_element": "DE00020"},
        {"name": "uscc", "label": "统一社会信用代码", "type": "uscc", "required": True,
         "data_element": "DE00021"},
        {"name": "change_item", "label": "变更事项", "type": "choice", "required": True,
         "options": ["名称", "住所", "经营范围", "法定代表人", "注册资本", "股东"]},
        {"name": "before_change", "label": "变更前内容", "type": "text", "required": True,
         "max_length": 500},
        {"name": "after_change", "label": "变更后内容", "type": "text", "required": True,
         "max_length": 500},
        {"name": "resolution_date", "label": "变更决议（决定）日期", "type": "date", "required": True,
         "help_text": "自作出变更决议、决定之日起30日内申请"},
        {"name": "contact_phone", "label": "联系电话", "type": "phone", "required": True,
         "data_element": "DE00011"},
    ],
    PENSION_ENROLMENT: [
        {"name": "insured_name", "label": "参保人姓名", "type": "text", "required": True,
         "max_length": 50, "data_element": "DE00001"},
        {"name": "insured_id", "label": "参保人身份证号", "type": "id_number", "required": True,
         "data_element": "DE00002"},
        {"name": "household_address", "label": "户籍地址", "type": "address", "required": True,
         "data_element": "DE00006"},
        {"name": "residence_address", "label": "居住地址", "type": "address", "required": False,
         "help_text": "与户籍地址不同时填写"},
        {"name": "contribution_grade", "label": "缴费档次（元/年）", "type": "choice",
         "required": True, "options": ["200", "300", "500", "700", "1000", "2000", "3000", "5000"]},
        {"name": "contact_phone", "label": "联系电话", "type": "phone", "required": True,
         "data_element": "DE00011"},
    ],
}


def load_forms() -> None:
    """Give the demo journeys' items their application forms (unchanged forms stay as they are)."""
    for code, fields in DEMO_FORMS.items():
        item = Item.objects.filter(implementation_code=code).first()
        if item is not None:  # a custom workbook may lack it
            form_definition_save(actor=SYSTEM, item=item, fields=fields)


def accounts_table() -> list[tuple[str, str, str, str]]:
    """(username, password, role, workplace) of each demo account, as stored."""
    rows = []
    users = {u.username: u for u in User.objects.filter(username__in=[a.username for a in ACCOUNTS])
             .select_related("department", "hall")}
    for demo in ACCOUNTS:
        user = users.get(demo.username)
        if user is None:
            continue
        place = user.department.name if user.department else (user.hall.name if user.hall else "")
        rows.append((user.username, DEMO_PASSWORD, str(Role(user.role).label), place))
    return rows


class Command(BaseCommand):
    help = "载入演示数据：事项目录、大厅和窗口、每个角色一个演示账户（仅限调试模式）"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--workbook", default=str(DEMO_WORKBOOK),
                            help="演示目录工作簿（默认为随软件发布的 demo-catalog.xlsx）")

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG:
            raise CommandError(_(
                "load_demo 只能在调试模式下运行（演示账户共用公开的密码）。"
                "请设置环境变量 TONGBAN_DEBUG=1 后重试。"))
        call_command("import_catalog", options["workbook"], stdout=self.stdout, stderr=self.stderr)
        with transaction.atomic():
            load_halls()
            load_accounts()
            load_demo_categories([h.name for h in HALLS])  # queue categories (取号)
            load_demo_inspections()  # 双随机一公开 directories and tasks
        # The data layer: elements and code lists, then the resource catalog that binds them,
        # then the records, demands and grants that use the resources.
        with transaction.atomic():
            Department.objects.filter(name=DATA_BUREAU).update(is_data_bureau=True)
            load_data_elements()
            load_forms()  # its fields bind data elements, which must exist first
            load_data_resources()
            load_data_sharing()
        # The e-licence library's types: their surfaces bind the data elements loaded above.
        call_command("import_licence_types", str(DEMO_LICENCE_TYPES), stdout=self.stdout,
                     stderr=self.stderr)
        load_demo_licences()  # issued through the library: signed, audited, verifiable
        load_demo_decisions()  # 秒批: forms, a grant and rule sets over the data layer
        self.print_accounts()

    def print_accounts(self) -> None:
        rows = accounts_table()
        header = (_("用户名"), _("密码"), _("角色"), _("所属部门或大厅"))
        widths = [max(_display_width(r[i]) for r in [header, *rows]) for i in range(4)]

        def line(cells: tuple[str, ...]) -> str:
            return "  ".join(c + " " * (w - _display_width(c)) for c, w in zip(cells, widths, strict=True))

        self.stdout.write(_("演示账户（仅供试用）："))
        self.stdout.write(line(header).rstrip())
        for row in rows:
            self.stdout.write(line(row).rstrip())


def _display_width(text: str) -> int:
    """Columns a string takes in a terminal: CJK characters take two."""
    return sum(2 if ord(ch) > 0x2E7F else 1 for ch in text)
