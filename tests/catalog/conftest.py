"""Catalog fixtures: a small, realistic published catalog built through the services.

``published_items`` drafts, submits and approves a dozen Lanzhou items (all four lists, several
item types, a 代办服务 item with its receiving street centre, an item with fees and FAQ, an item
revised once, a cancelled item and an unpublished draft), exactly as the bureau would.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pytest

from tests.catalog.bureau_factories import make_department, make_staff
from tongban.accounts.models import Role, User
from tongban.catalog import services
from tongban.catalog.models import Faq, Fee, Item, ItemVersion
from tongban.catalog.rules import ItemData, MaterialData
from tongban.organizations.models import LEVEL_DIGIT, Department, Division, Level

# Departments of the demo workbook (fictional codes that pass the GB 32100 check).
DEPARTMENTS = {
    "market": ("兰州市市场监督管理局", "11620100051317876B", "620100", Level.CITY, "0931-8619275",
               "0931-8702163", "兰州市城关区南昌路111号"),
    "police": ("兰州市公安局", "11620100MB202820XH", "620100", Level.CITY, "0931-8433105",
               "0931-8918324", "兰州市城关区武都路375号"),
    "hrss": ("兰州市人力资源和社会保障局", "11620100051760018C", "620100", Level.CITY, "0931-8462063",
             "0931-8535408", "兰州市城关区庆阳路404号"),
    "civil": ("兰州市民政局", "11620100MB4938944B", "620100", Level.CITY, "0931-8119241",
              "0931-8883254", "兰州市城关区定西路396号"),
    "fund": ("兰州市住房公积金管理中心", "12620100016858028M", "620100", Level.CITY, "0931-8478321",
             "0931-8632921", "兰州市城关区东岗西路632号"),
    "medical": ("兰州市医疗保障局", "11620100032519157A", "620100", Level.CITY, "0931-8508212",
                "0931-8793485", "兰州市城关区皋兰路150号"),
    "cg_market": ("城关区市场监督管理局", "1162010202028571XC", "620102", Level.COUNTY, "0931-8689414",
                  "0931-8923265", "兰州市城关区庆阳路574号"),
    "glr_centre": ("城关区皋兰路街道便民服务中心", "126201020872796723", "620102001000", Level.TOWNSHIP,
                   "0931-8415484", "0931-8843354", "兰州市城关区皋兰路128号"),
    "qlh_market": ("七里河区市场监督管理局", "116201030260040695", "620103", Level.COUNTY,
                   "0931-8694609", "0931-8410875", "兰州市七里河区西津西路702号"),
}

HOURS = "周一至周五 9:00-12:00，13:30-17:30（法定节假日除外）"
ONLINE_HOURS = "网上办理7×24小时；窗口：" + HOURS
REVIEW_ROUTE = ("对办理结果不服的，可在收到决定之日起60日内向兰州市人民政府申请行政复议，"
                "或在6个月内向人民法院提起行政诉讼。")


def material(name: str, **overrides: Any) -> MaterialData:
    values: dict[str, Any] = {"name": name, "material_type": "original", "form": "paper",
                              "necessity": "required", "source": "applicant",
                              "original_copies": 1, "copy_copies": 0}
    values.update(overrides)
    return MaterialData(**values)


@dataclass
class Catalog:
    """What ``published_items`` built: departments and items by short key."""

    departments: dict[str, Department]
    items: dict[str, Item]
    actor: User
    listed: list[str] = field(default_factory=list)  # keys of items whose current is published

    def code(self, key: str) -> str:
        return self.items[key].implementation_code

    def version(self, key: str) -> ItemVersion:
        current = self.items[key].current
        assert current is not None
        return current


def _department(key: str) -> Department:
    name, uscc, division, level, phone, complaint, address = DEPARTMENTS[key]
    parent = None
    if key == "cg_market":
        parent = Department.objects.get(uscc=DEPARTMENTS["market"][1])
    return Department.objects.create(
        name=name, uscc=uscc, division=Division.objects.get(code=division), level=level,
        consultation_phone=phone, complaint_phone=complaint, address=address, parent=parent)


def _data(dept: Department, basic_code: str, **values: Any) -> ItemData:
    defaults: dict[str, Any] = {
        "implementation_code": dept.uscc + LEVEL_DIGIT[Level(dept.level)] + basic_code,
        "basic_code": basic_code, "department": dept, "level": dept.level,
        "legal_limit_unit": "working_days", "committed_limit_unit": "working_days",
        "consultation_phone": dept.consultation_phone, "complaint_phone": dept.complaint_phone,
        "office_hours": HOURS, "review_route": REVIEW_ROUTE,
    }
    defaults.update(values)
    return ItemData(**defaults)


def _publish(actor: User, data: ItemData, *, fees: list[Fee] | None = None,
             faqs: list[Faq] | None = None) -> Item:
    draft = services.item_save_draft(actor=actor, data=data, change_note="新建事项")
    for fee in fees or []:
        fee.version = draft
        fee.save()
    for faq in faqs or []:
        faq.version = draft
        faq.save()
    services.version_submit(actor=actor, version=draft)
    services.version_review(actor=actor, version=draft, approve=True, note="同意发布")
    return Item.objects.select_related("current").get(pk=draft.item_id)


def build_catalog(actor: User) -> Catalog:
    d = {key: _department(key) for key in DEPARTMENTS}
    items: dict[str, Item] = {}
    items["company_setup"] = _publish(actor, _data(
        d["market"], "000100113001", name="企业设立登记", item_type="01", commitment="on_the_spot",
        legal_limit=3, committed_limit=0, required_visits=0, online_depth=4,
        handling_forms=["online", "window"],
        conditions="企业名称经自主申报通过；有符合规定的住所（经营场所）；申请材料齐全、符合法定形式。",
        legal_basis="《中华人民共和国市场主体登记管理条例》第三条、第十九条",
        service_objects=["legal_person"], topics=["设立变更"],
        location="兰州市政务服务中心二楼市场监管综合窗口", office_hours=ONLINE_HOURS,
        result_type="licence", result_name="营业执照",
        process="1. 网上申报或窗口提交材料；2. 登记机关审查；3. 当场核准并发放营业执照。",
        materials=[
            material("《公司登记（备案）申请书》", form="both", notes="须申请人签字（盖章）"),
            material("公司章程", notes="由全体股东签署"),
            material("住所（经营场所）使用证明", necessity="deferrable", material_type="copy",
                     original_copies=0, copy_copies=1, notes="可先书面承诺，3个工作日内补交"),
            material("法定代表人居民身份证", material_type="copy", original_copies=0, copy_copies=1,
                     source="government", licence_type="居民身份证", form="electronic",
                     legal_basis="《中华人民共和国市场主体登记管理条例实施细则》第二十六条"),
        ]))
    items["company_cancel"] = _publish(actor, _data(
        d["market"], "000100113003", name="企业注销登记", item_type="01", commitment="same_day",
        legal_limit=3, committed_limit=1, required_visits=0, online_depth=4,
        handling_forms=["online", "window"],
        conditions="企业已依法完成清算，债权债务已清偿完结，已结清应缴税款、社会保险费。",
        legal_basis="《中华人民共和国市场主体登记管理条例》第三十一条", service_objects=["legal_person"],
        topics=["法人注销"], location="兰州市政务服务中心二楼市场监管综合窗口",
        result_type="other", result_name="准予注销登记通知书",
        materials=[material("注销登记申请书"), material("清算报告")]))
    items["id_card"] = _publish(actor, _data(
        d["police"], "000700113003", name="居民身份证补领", item_type="07", commitment="time_limited",
        legal_limit=60, legal_limit_unit="natural_days", committed_limit=15,
        committed_limit_unit="natural_days", required_visits=1,
        visit_reason="需本人到场采集人像、指纹信息并核验身份", online_depth=2,
        handling_forms=["window", "post"], charges_fee=True,
        fee_standard="居民身份证工本费每证20元", fee_basis="《中华人民共和国居民身份证法》第二十条",
        conditions="居民身份证丢失的，应当申请补领；可在全国范围内异地申请。",
        legal_basis="《中华人民共和国居民身份证法》第十一条", service_objects=["natural_person"],
        topics=["证件办理"], location="户籍所在地公安派出所户籍窗口", result_type="licence",
        result_name="中华人民共和国居民身份证",
        special_procedures="制证及邮寄，约10个自然日",
        materials=[material("户口簿", source="government", licence_type="居民户口簿")]),
        fees=[Fee(name="居民身份证工本费", amount=Decimal("20.00"), unit="每证",
                  basis="国家发展改革委、财政部关于居民身份证工本费标准的规定")],
        faqs=[Faq(position=1, question="补领身份证期间可以乘坐火车吗？",
                  answer="可以在派出所申领临时居民身份证，或在车站办理临时乘车身份证明。")])
    items["hukou"] = _publish(actor, _data(
        d["police"], "000700126002", name="户口迁移（市内迁移）", item_type="07", commitment="same_day",
        legal_limit=5, committed_limit=1, required_visits=1,
        visit_reason="需户主或本人到场签字确认并核验户口簿", online_depth=2, handling_forms=["window"],
        conditions="本市户籍居民在市内因住所变动迁移户口，在迁入地有合法稳定住所。",
        legal_basis="《中华人民共和国户口登记条例》第十条", service_objects=["natural_person"],
        topics=["户籍办理"], location="户籍所在地公安派出所户籍窗口", result_type="other",
        result_name="户口簿登记页", materials=[material("居民户口簿"), material("房屋产权证明")]))
    items["social_card"] = _publish(actor, _data(
        d["hrss"], "002000152001", name="社会保障卡申领", item_type="20", commitment="on_the_spot",
        legal_limit=0, committed_limit=0, required_visits=1,
        visit_reason="需本人到合作银行网点激活金融功能并领取实体卡", online_depth=3,
        handling_forms=["window", "online"],
        conditions="已在本市参加社会保险或拟参保的人员，尚未领取全国统一的第三代社会保障卡。",
        legal_basis="《中华人民共和国社会保险法》第五十八条", service_objects=["natural_person"],
        topics=["社会保障"], location="兰州市政务服务中心人社窗口", office_hours=ONLINE_HOURS,
        result_type="licence", result_name="社会保障卡",
        materials=[material("居民身份证", source="government", licence_type="居民身份证")]))
    items["dibao"] = _publish(actor, _data(
        d["civil"], "000500178000", name="最低生活保障", item_type="05", commitment="proxy",
        legal_limit=30, committed_limit=20, required_visits=0, online_depth=3,
        handling_forms=["window", "online"],
        conditions="共同生活的家庭成员人均收入低于当地最低生活保障标准，且家庭财产状况符合当地规定的。",
        legal_basis="《社会救助暂行办法》第九条至第十二条", service_objects=["natural_person"],
        topics=["社会保障"],
        location="代办受理：城关区皋兰路街道便民服务中心；审批：兰州市政务服务中心民政窗口",
        result_type="other", result_name="最低生活保障金领取证明", receiving_unit=d["glr_centre"],
        special_procedures="入户调查及审核结果公示，公示期7日",
        materials=[material("低保申请书"), material("家庭收入情况说明")]))
    items["medical"] = _publish(actor, _data(
        d["medical"], "002000386001", name="城乡居民基本医疗保险参保登记", item_type="20",
        commitment="on_the_spot", legal_limit=0, committed_limit=0, required_visits=0,
        online_depth=4, handling_forms=["online", "window"],
        conditions="未参加职工基本医疗保险的本市户籍城乡居民，在集中参保缴费期内参保缴费。",
        legal_basis="《中华人民共和国社会保险法》第二十五条", service_objects=["natural_person"],
        topics=["医疗卫生"], location="兰州市政务服务中心医保窗口", office_hours=ONLINE_HOURS,
        result_type="other", result_name="参保登记信息",
        materials=[material("居民身份证或户口簿", source="government", licence_type="居民身份证")]))
    items["fund_rent"] = _publish(actor, _data(
        d["fund"], "002000516003", name="住房公积金提取（租赁住房）", item_type="20",
        commitment="on_the_spot", legal_limit=3, legal_limit_unit="natural_days", committed_limit=0,
        committed_limit_unit="natural_days", required_visits=0, online_depth=4,
        handling_forms=["online", "window"],
        conditions="缴存职工本人及配偶在本市无自有住房且租赁住房的，可按规定额度按月或按年提取。",
        legal_basis="《住房公积金管理条例》第二十四条", service_objects=["natural_person"],
        topics=["住房保障"], location="兰州市住房公积金管理中心各管理部服务大厅",
        result_type="other", result_name="住房公积金提取审批结果",
        materials=[material("居民身份证", source="government")]))
    items["district_cancel"] = _publish(actor, _data(
        d["cg_market"], "000100113003", name="企业注销登记", item_type="01", commitment="same_day",
        legal_limit=3, committed_limit=1, required_visits=0, online_depth=4,
        handling_forms=["online", "window"],
        conditions="企业已依法完成清算，债权债务已清偿完结，已结清应缴税款、社会保险费。",
        legal_basis="《中华人民共和国市场主体登记管理条例》第三十一条", service_objects=["legal_person"],
        topics=["法人注销"], location="城关区政务服务中心市场监管窗口", result_type="other",
        result_name="准予注销登记通知书", materials=[material("注销登记申请书")]))
    items["penalty"] = _publish(actor, _data(
        d["market"], "620200100001", name="对未取得食品经营许可从事食品经营活动的行政处罚",
        item_type="02", commitment="time_limited", legal_limit=90, legal_limit_unit="natural_days",
        committed_limit=60, committed_limit_unit="natural_days", required_visits=1,
        visit_reason="需当事人到场接受询问并签收处罚决定书", online_depth=1, handling_forms=["window"],
        legal_basis="《中华人民共和国食品安全法》第一百二十二条",
        service_objects=["natural_person", "legal_person"], topics=["市场监管"],
        location="兰州市市场监督管理局执法稽查科", result_type="other", result_name="行政处罚决定书"))
    items["seal"] = _publish(actor, _data(
        d["police"], "001000113001", name="公章刻制备案", item_type="10", commitment="on_the_spot",
        legal_limit=1, committed_limit=0, required_visits=0, online_depth=4,
        handling_forms=["online", "post"], service_objects=["legal_person"], topics=["准营准办"],
        result_type="other", result_name="公章刻制备案信息"))
    services.item_cancel(actor=actor, item=items["seal"], reason="并入企业开办“一件事”，不再单独办理")
    # 户口迁移 is revised once: version 1 is superseded by version 2.
    hukou_v2 = services.version_to_data(items["hukou"].current)  # type: ignore[arg-type]
    hukou_v2.office_hours = "周一至周六 9:00-17:30（法定节假日除外）"
    _publish(actor, hukou_v2)
    items["hukou"].refresh_from_db()
    # Saved but never submitted: must not appear anywhere public.
    draft = services.item_save_draft(actor=actor, data=_data(
        d["police"], "000700113010", name="无犯罪记录证明开具", item_type="07",
        commitment="on_the_spot", legal_limit=3, committed_limit=0, required_visits=0,
        online_depth=4, handling_forms=["online"], service_objects=["natural_person"],
        topics=["证件办理"], result_type="other", result_name="无犯罪记录证明"))
    items["draft"] = Item.objects.get(pk=draft.item_id)
    for item in items.values():
        item.refresh_from_db()
    listed = [k for k in items if k not in {"seal", "draft"}]
    return Catalog(departments=d, items=items, actor=actor, listed=listed)


@pytest.fixture
def published_items(admin_user: User) -> Catalog:
    """A small published catalog (see the module docstring); reuse it in any catalog test."""
    return build_catalog(admin_user)


# --- personas of the bureau's catalog work (drafts, review, permissions) ---

@pytest.fixture
def dept(db: None) -> Department:
    return make_department("兰州市测试局")


@pytest.fixture
def other_dept(db: None) -> Department:
    return make_department("兰州市其他局")


@pytest.fixture
def bureau(db: None) -> User:
    return make_staff("bureau-admin", Role.ADMIN, None)


@pytest.fixture
def officer(dept: Department) -> User:
    return make_staff("officer", Role.OFFICER, dept)


@pytest.fixture
def stranger(other_dept: Department) -> User:
    """An officer of another department."""
    return make_staff("stranger", Role.OFFICER, other_dept)
