"""Rule sets for the automatic-decision tests: 企业变更登记 (当日办结, the default form)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.cases.conftest import SAME_DAY, api, catalog, item, people  # noqa: F401
from tests.conftest import make_user
from tongban.accounts.models import Role, User
from tongban.decisions import engine
from tongban.decisions.models import RuleSet
from tongban.decisions.services.rule_sets import RuleSetData, rule_set_publish, rule_set_save

CONDITIONS = {"phone": "联系电话为手机号码", "purpose": "已写明申请事由"}
EXPRESSIONS = {"phone": "startsWith(form.contact_phone ?? '', '1')",
               "purpose": "len(form.purpose ?? '') >= 2"}
TESTS = [
    {"name": "手机号且写明事由", "input": {"form": {"contact_phone": "13893100001", "purpose": "变更住所"}},
     "expect": {"approve": True}},
    {"name": "固定电话", "input": {"form": {"contact_phone": "0931-8123456", "purpose": "变更住所"}},
     "expect": {"approve": False, "conditions.phone": False}},
]


def data(**changes: Any) -> RuleSetData:
    values: dict[str, Any] = {"name": "企业变更登记秒批规则", "jdm": engine.jdm_all_of(EXPRESSIONS),
                              "conditions": dict(CONDITIONS), "tests": list(TESTS)}
    values.update(changes)
    return RuleSetData(**values)


@pytest.fixture
def admin(catalog: None) -> User:  # noqa: F811
    return make_user("bureau", Role.ADMIN)


@pytest.fixture
def rules(admin: User) -> RuleSet:
    return rule_set_publish(actor=admin, rule_set=rule_set_save(actor=admin, item=item(SAME_DAY),
                                                                 data=data()))


def hukou_grant(department: Any, people_rows: list[dict[str, str]]) -> Any:
    """户籍人口基本信息 (LZ-GA-0001) held with ``people_rows`` and granted to ``department``
    (name and 户籍地址), through the exchange's services as the demo does."""
    from tongban.accounts.permissions import SYSTEM
    from tongban.demo.data_sharing import _csv, ensure_resource
    from tongban.exchange.models import DataRequest
    from tongban.exchange.services import sharing, sharing_records

    resource = ensure_resource("LZ-GA-0001")
    assert resource is not None
    sharing_records.records_import(actor=SYSTEM, resource=resource, content=_csv(people_rows),
                                   file_name="户籍.csv")
    demand = sharing.data_request_file(
        actor=SYSTEM, department=department, resource=resource, field_keys=["name", "address"],
        purpose="秒批核验申请人户籍", legal_basis="《甘肃省政务数据共享管理办法》")
    sharing.data_request_check(actor=SYSTEM, request=demand)
    sharing.data_request_answer(actor=SYSTEM, request=demand, approve=True, reason="同意")
    return DataRequest.objects.get(pk=demand.pk).grant


HUKOU_CONDITIONS = {"found": "查得申请人的户籍信息", "lanzhou": "户籍在兰州市",
                    "name": "申请人姓名与户籍登记一致"}
HUKOU_EXPRESSIONS = {"found": "exchange.hukou.found == true",
                     "lanzhou": "startsWith(exchange.hukou.address ?? '', '兰州市')",
                     "name": "(exchange.hukou.name ?? '') == applicant.name"}
HUKOU_EXCHANGE = [{"name": "hukou", "resource": "LZ-GA-0001", "items": ["name", "address"],
                   "subject": "applicant.id_number"}]
HUKOU_TESTS = [
    {"name": "兰州户籍", "input": {"applicant": {"name": "张三"}, "exchange": {"hukou": {
        "found": True, "name": "张三", "address": "兰州市城关区皋兰路1号"}}},
     "expect": {"approve": True}},
    {"name": "外地户籍", "input": {"applicant": {"name": "张三"}, "exchange": {"hukou": {
        "found": True, "name": "张三", "address": "天水市秦州区"}}},
     "expect": {"approve": False, "conditions.lanzhou": False}},
    {"name": "未查得", "input": {"applicant": {"name": "张三"}, "exchange": {"hukou": {
        "found": False}}}, "expect": {"approve": False}},
]


@pytest.fixture
def submit(django_capture_on_commit_callbacks: Any) -> Any:
    """``submit(user, **form_changes)``: an online case of 企业变更登记 with every material,
    submitted; the automatic decision queued on the commit runs at once (immediate backend)."""
    from tests.cases.conftest import form, pdf
    from tongban.cases import services
    from tongban.cases.materials import case_material_add
    from tongban.cases.models import ApplicantKind, Case, Channel
    from tongban.cases.services import ApplicantData

    def submit(user: User, **form_changes: Any) -> Case:
        case = services.case_create(
            actor=user, item=item(SAME_DAY), channel=Channel.ONLINE,
            applicant=ApplicantData(kind=ApplicantKind.NATURAL, name=user.real_name,
                                    id_number=user.id_number, phone=user.phone),
            form_data={**form(), "purpose": "变更住所", **form_changes})
        for m in case.item_version.materials.all():
            case_material_add(actor=user, case=case, material=m, name=m.name, upload=pdf(),
                              original_name=f"{m.name}.pdf")
        with django_capture_on_commit_callbacks(execute=True):
            services.case_submit(actor=user, case=case)
        return Case.objects.get(pk=case.pk)

    return submit
