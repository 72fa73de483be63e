"""The demo city's data layer: held records, demands in every state, the granted demand of
兰州市市场监督管理局 for 户籍人口基本信息 with its key, and recorded uses of 张明's data.

Records are synthetic and deterministic (seeded): 10,000 people for LZ-GA-0001 (valid ID numbers
with their check characters, Gansu division codes, plausible names) and 2,000 companies for
LZ-SC-0001 (valid USCCs). They go through the same import as a provider's upload.

The resources and elements are made by the ``resources`` and ``elements`` parts' demo; when one
this module needs is missing (this part on its own), a minimal published one is created here —
the FALLBACK below, found by code afterwards when the real ones exist.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from tongban.accounts.models import Role, User
from tongban.accounts.permissions import SYSTEM
from tongban.audit.services import audit_record
from tongban.catalog.models import Item
from tongban.core import crypto
from tongban.exchange.models import (
    Checker,
    CodeList,
    Credential,
    DataElement,
    DataRequest,
    DataType,
    DomainKind,
    ElementStatus,
    ExchangeUse,
    RecordBatch,
    Resource,
    ResourceField,
    ResourceStatus,
    ResourceVersion,
    ShareMethod,
    ShareType,
    UpdateCycle,
)
from tongban.exchange.services import sharing, sharing_records
from tongban.organizations.models import Department

DEMO_CITIZEN_ID = "620102199001011233"
DEMO_CITIZEN_NAME = "张明"
DEMO_COMPANY_USCC = "91620102MA7123456T"
DEMO_COMPANY_NAME = "兰州示例餐饮有限公司"
FOOD_BUSINESS = "11620100051317876B3000100139001"  # 食品经营许可（新办）
MARKET = "兰州市市场监督管理局"
DEMO_SUFFIX = "-演示.csv"
PEOPLE = 10_000
COMPANIES = 2_000

# identifier → (name, data type, max length, domain kind, code list or checker, unit, personal)
ELEMENTS: dict[str, tuple[str, str, int | None, str, str, str, bool]] = {
    "DE00001": ("姓名", DataType.STRING, 50, DomainKind.FREE, "", "", True),
    "DE00002": ("公民身份号码", DataType.STRING, 18, DomainKind.CHECKED, Checker.ID_NUMBER, "", True),
    "DE00003": ("性别代码", DataType.STRING, 1, DomainKind.CODE_LIST, "GB/T 2261.1", "", True),
    "DE00004": ("出生日期", DataType.DATE, None, DomainKind.FREE, "", "", True),
    "DE00005": ("民族代码", DataType.STRING, 2, DomainKind.CODE_LIST, "GB/T 3304", "", True),
    "DE00006": ("户籍地址", DataType.STRING, 200, DomainKind.FREE, "", "", True),
    "DE00007": ("婚姻状况代码", DataType.STRING, 2, DomainKind.CODE_LIST, "GB/T 2261.2", "", True),
    "DE00020": ("市场主体名称", DataType.STRING, 100, DomainKind.FREE, "", "", False),
    "DE00021": ("统一社会信用代码", DataType.STRING, 18, DomainKind.CHECKED, Checker.USCC, "",
                False),
    "DE00022": ("法定代表人姓名", DataType.STRING, 50, DomainKind.FREE, "", "", True),
    "DE00023": ("注册资本", DataType.DECIMAL, None, DomainKind.FREE, "", "万元", False),
    "DE00024": ("住所（经营场所）", DataType.STRING, 200, DomainKind.FREE, "", "", False),
    "DE00025": ("成立日期", DataType.DATE, None, DomainKind.FREE, "", "", False),
    "DE00026": ("经营范围", DataType.STRING, 2000, DomainKind.FREE, "", "", False),
    "DE00027": ("市场主体类型", DataType.STRING, 50, DomainKind.FREE, "", "", False),
    "DE00030": ("参保状态", DataType.STRING, 20, DomainKind.FREE, "", "", False),
    "DE00031": ("参保险种", DataType.STRING, 50, DomainKind.FREE, "", "", False),
    "DE00032": ("参保日期", DataType.DATE, None, DomainKind.FREE, "", "", False),
    "DE00050": ("结婚登记日期", DataType.DATE, None, DomainKind.FREE, "", "", True),
    "DE00051": ("配偶姓名", DataType.STRING, 50, DomainKind.FREE, "", "", True),
}

# code → (name, provider, share type, share method, [(key, item name, element)], subject first)
RESOURCES: dict[str, tuple[str, str, str, str, list[tuple[str, str, str]]]] = {
    "LZ-GA-0001": ("户籍人口基本信息", "兰州市公安局", ShareType.CONDITIONAL, ShareMethod.TABLE, [
        ("id_number", "公民身份号码", "DE00002"), ("name", "姓名", "DE00001"),
        ("sex", "性别", "DE00003"), ("birth_date", "出生日期", "DE00004"),
        ("ethnicity", "民族", "DE00005"), ("address", "户籍地址", "DE00006")]),
    "LZ-SC-0001": ("企业登记信息", MARKET, ShareType.UNCONDITIONAL, ShareMethod.TABLE, [
        ("uscc", "统一社会信用代码", "DE00021"), ("company_name", "市场主体名称", "DE00020"),
        ("legal_representative", "法定代表人姓名", "DE00022"),
        ("registered_capital", "注册资本", "DE00023"), ("address", "住所（经营场所）", "DE00024"),
        ("established_on", "成立日期", "DE00025"), ("business_scope", "经营范围", "DE00026"),
        ("company_type", "市场主体类型", "DE00027")]),
    "LZ-RS-0001": ("社保参保信息", "兰州市人力资源和社会保障局", ShareType.CONDITIONAL,
                   ShareMethod.INTERFACE, [
                       ("id_number", "公民身份号码", "DE00002"), ("name", "姓名", "DE00001"),
                       ("insurance_status", "参保状态", "DE00030"),
                       ("insurance_type", "参保险种", "DE00031"),
                       ("insured_on", "参保日期", "DE00032")]),
    "LZ-MZ-0001": ("婚姻登记信息", "兰州市民政局", ShareType.CONDITIONAL, ShareMethod.TABLE, [
        ("id_number", "公民身份号码", "DE00002"), ("name", "姓名", "DE00001"),
        ("marital_status", "婚姻状况", "DE00007"), ("married_on", "结婚登记日期", "DE00050"),
        ("spouse_name", "配偶姓名", "DE00051")]),
}


def ensure_element(identifier: str) -> DataElement:
    """The element, or (FALLBACK, this part alone) a minimal published one."""
    found = DataElement.objects.filter(identifier=identifier).first()
    if found is not None:
        return found
    name, kind, length, domain, extra, unit, personal = ELEMENTS[identifier]
    code_list = CodeList.objects.filter(code=extra).first() if domain == DomainKind.CODE_LIST else None
    if domain == DomainKind.CODE_LIST and code_list is None:
        domain = DomainKind.FREE  # the list is not loaded: keep the element usable
    return DataElement.objects.create(
        identifier=identifier, name=name, definition=f"{name}（演示数据元）", data_type=kind,
        max_length=length, domain_kind=domain, code_list=code_list,
        checker=extra if domain == DomainKind.CHECKED else "", unit=unit, personal=personal,
        status=ElementStatus.PUBLISHED, approved_on=timezone.localdate())


def ensure_resource(code: str, provider: Department | None = None) -> Resource | None:
    """The resource by code, or (FALLBACK) a minimal published version of it; None when its
    provider department does not exist."""
    found = Resource.objects.filter(code=code).first()
    if found is not None:
        return found
    name, provider_name, share_type, method, items = RESOURCES[code]
    provider = provider or Department.objects.filter(name=provider_name).first()
    if provider is None:
        return None
    resource = Resource.objects.create(code=code, provider=provider)
    version = ResourceVersion.objects.create(
        resource=resource, version=1, status=ResourceStatus.PUBLISHED,
        classification="basic", category_code="101001", name=name,
        summary=f"{name}（演示兜底资源，资源目录部分载入后以其为准）", format="数据库表",
        share_type=share_type, share_method=method, update_cycle=UpdateCycle.DAILY,
        published_on=timezone.localdate(),
        endpoint_url="http://127.0.0.1:9/social-insurance" if method == ShareMethod.INTERFACE
        else "")
    ResourceField.objects.bulk_create(
        ResourceField(version=version, position=i + 1, name=item, key=key,
                      element=ensure_element(element), is_subject=i == 0, is_source=True)
        for i, (key, item, element) in enumerate(items))
    resource.current = version
    resource.save(update_fields=["current"])
    return resource


# --- synthetic people and companies --------------------------------------------------------------

SURNAMES = ("王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯"
            "于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎")
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉萍红娥玲芬燕彬鹏辉宇浩凯健俊帆"
STREETS = ("皋兰路", "庆阳路", "张掖路", "中山路", "西津西路", "南滨河路", "东岗西路", "天水南路",
           "民主东路", "酒泉路", "金昌南路", "建宁路", "北滨河路", "安宁西路")
DISTRICTS = {"620102": "兰州市城关区", "620103": "兰州市七里河区", "620104": "兰州市西固区",
             "620105": "兰州市安宁区", "620111": "兰州市红古区", "620121": "兰州市永登县",
             "620122": "兰州市皋兰县", "620123": "兰州市榆中县"}
WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
BUSINESS = ("餐饮服务；食品销售", "软件开发；信息技术咨询服务", "建筑工程施工", "货物进出口；技术进出口",
            "农产品初加工；农产品销售", "道路货物运输", "医疗器械销售", "住宿服务")
TYPES = ("有限责任公司（自然人投资或控股）", "有限责任公司（自然人独资）", "股份有限公司", "个人独资企业")


def id_check(first17: str) -> str:
    total = sum(int(d) * w for d, w in zip(first17, WEIGHTS, strict=True))
    return "10X98765432"[total % 11]


def _people(rng: random.Random) -> list[dict[str, str]]:
    out = [{"id_number": DEMO_CITIZEN_ID, "name": DEMO_CITIZEN_NAME, "sex": "1",
            "birth_date": "1990-01-01", "ethnicity": "01", "address": "兰州市城关区皋兰路1号"}]
    seen = {DEMO_CITIZEN_ID}
    divisions = list(DISTRICTS)
    start = dt.date(1940, 1, 1).toordinal()
    span = dt.date(2008, 12, 31).toordinal() - start
    while len(out) < PEOPLE:
        division = rng.choice(divisions)
        born = dt.date.fromordinal(start + rng.randrange(span))
        serial = rng.randrange(1, 999)
        first17 = f"{division}{born:%Y%m%d}{serial:03d}"
        number = first17 + id_check(first17)
        if number in seen:
            continue
        seen.add(number)
        given = rng.choice(GIVEN) + (rng.choice(GIVEN) if rng.random() < 0.7 else "")
        out.append({"id_number": number, "name": rng.choice(SURNAMES) + given,
                    "sex": "1" if serial % 2 else "2", "birth_date": born.isoformat(),
                    "ethnicity": "01" if rng.random() < 0.9 else rng.choice(("03", "04", "19", "35")),
                    "address": f"{DISTRICTS[division]}{rng.choice(STREETS)}{rng.randrange(1, 999)}号"})
    return out


def _companies(rng: random.Random) -> list[dict[str, str]]:
    from stdnum.cn import uscc

    out = [{"uscc": DEMO_COMPANY_USCC, "company_name": DEMO_COMPANY_NAME,
            "legal_representative": DEMO_CITIZEN_NAME, "registered_capital": "50",
            "address": "兰州市城关区张掖路88号", "established_on": "2021-06-18",
            "business_scope": "餐饮服务；食品销售", "company_type": TYPES[0]}]
    seen = {DEMO_COMPANY_USCC}
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    words = ("金城", "黄河", "陇原", "兰山", "丝路", "敦煌", "祁连", "白塔", "皋兰", "西固", "飞天", "五泉")
    trades = ("餐饮", "科技", "建设", "商贸", "农业", "物流", "医药", "酒店")
    while len(out) < COMPANIES:
        division = rng.choice(list(DISTRICTS))
        body = "".join(rng.choice(alphabet) for _ in range(9))
        first17 = f"91{division}{body}"
        number = first17 + uscc.calc_check_digit(first17)
        if number in seen:
            continue
        seen.add(number)
        kind = rng.randrange(len(trades))
        out.append({"uscc": number,
                    "company_name": f"兰州{rng.choice(words)}{rng.choice(words)}{trades[kind]}有限公司"
                                    f"{len(out)}",
                    "legal_representative": rng.choice(SURNAMES) + rng.choice(GIVEN),
                    "registered_capital": str(rng.choice((10, 50, 100, 200, 500, 1000))),
                    "address": f"{DISTRICTS[division]}{rng.choice(STREETS)}{rng.randrange(1, 999)}号",
                    "established_on": dt.date.fromordinal(
                        dt.date(2000, 1, 1).toordinal() + rng.randrange(9000)).isoformat(),
                    "business_scope": BUSINESS[kind], "company_type": rng.choice(TYPES)})
    return out


def _csv(rows: list[dict[str, str]]) -> bytes:
    import csv
    import io

    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


def officer_of(department: Department) -> Any:
    """The department's own data officer account (the demo's market_data, police_data), or the
    system where the demo has none: what only a department may do, its officer does."""
    return (User.objects.filter(role=Role.DATA_OFFICER, department=department).order_by("pk").first()
            or SYSTEM)


def demo_key_of(grant_id: int) -> str:
    """The demo grant's key: derived, DEBUG only, documented as demo-only (never printed)."""
    return sharing.demo_key(grant_id)


@transaction.atomic
def load_data_sharing() -> None:
    bureau = User.objects.filter(username="data").first()
    if bureau is None or RecordBatch.objects.filter(file_name__endswith=DEMO_SUFFIX).exists():
        return  # no data bureau account, or loaded already: load_demo runs again unchanged
    market = Department.objects.filter(name=MARKET).first()
    resources = {code: ensure_resource(code) for code in RESOURCES}
    rng = random.Random(20261207)
    people, companies = resources["LZ-GA-0001"], resources["LZ-SC-0001"]
    if people is not None:
        sharing_records.records_import(actor=officer_of(people.provider), resource=people,
                                       content=_csv(_people(rng)),
                               file_name="户籍人口基本信息" + DEMO_SUFFIX)
    if companies is not None:
        sharing_records.records_import(actor=officer_of(companies.provider), resource=companies,
                                       content=_csv(_companies(rng)),
                               file_name="企业登记信息" + DEMO_SUFFIX)
    if market is None or people is None:
        return
    items = [FOOD_BUSINESS] if Item.objects.filter(implementation_code=FOOD_BUSINESS).exists() else []
    consumer = officer_of(market)
    common: dict[str, Any] = {"actor": consumer, "department": market}
    # The granted demand: filed, checked (conditional → provider), approved by the provider.
    granted = sharing.data_request_file(
        **common, resource=people, field_keys=["name", "id_number", "address"],
        purpose="食品经营许可（新办）核验申请人身份信息，免于提交身份证复印件",
        legal_basis="《食品经营许可和备案管理办法》第十四条；《甘肃省政务数据共享管理办法》",
        scenarios="食品经营许可（新办）受理时核验申请人及法定代表人身份", related_items=items,
        period_from=timezone.localdate())
    sharing.data_request_check(actor=bureau, request=granted)
    sharing.data_request_answer(actor=officer_of(people.provider), request=granted, approve=True,
                                masked_keys=["id_number"], reason="同意按授权范围共享")
    grant = DataRequest.objects.get(pk=granted.pk).grant
    if settings.DEBUG:
        credential, _key = sharing.credential_issue(actor=consumer, grant=grant, days=365,
                                                   key=demo_key_of(grant.pk))
    # A few demands in every other state.
    checking = sharing.data_request_file(
        **common, resource=people, field_keys=["name", "birth_date"],
        purpose="个体工商户登记核验经营者年龄", legal_basis="《促进个体工商户发展条例》")
    del checking
    marriage = resources["LZ-MZ-0001"]
    if marriage is not None:
        at_provider = sharing.data_request_file(
            **common, resource=marriage, field_keys=["name", "marital_status"],
            purpose="企业登记时核验股东婚姻状况（夫妻共同出资）", legal_basis="《市场主体登记管理条例》")
        sharing.data_request_check(actor=bureau, request=at_provider)
        refused = sharing.data_request_file(
            **common, resource=marriage, field_keys=["spouse_name", "married_on"],
            purpose="市场主体信用画像", legal_basis="内部管理需要")
        sharing.data_request_check(actor=bureau, request=refused)
        sharing.data_request_answer(actor=officer_of(marriage.provider), request=refused,
                                    approve=False,
                                    reason="用途与婚姻登记信息的共享条件不符，且超出最小必要范围",
                                    legal_basis="《中华人民共和国个人信息保护法》第六条")
    if companies is not None:
        withdrawn = sharing.data_request_file(
            actor=officer_of(people.provider), department=people.provider, resource=companies,
            field_keys=["company_name", "legal_representative"],
            purpose="治安管理中核验企业法定代表人", legal_basis="《中华人民共和国治安管理处罚法》")
        sharing.data_request_withdraw(actor=officer_of(people.provider), request=withdrawn,
                                      reason="改为线下核查")
    gap = sharing.data_request_file(
        **common, wanted_elements=["DE00001", "DE00002"],
        description="食品从业人员健康证明信息（姓名、身份证号、体检结论、有效期），目前无资源提供",
        purpose="食品经营许可核验从业人员健康证明", legal_basis="《中华人民共和国食品安全法》第四十五条")
    health = Department.objects.filter(name="兰州市卫生健康委员会").first()
    if health is not None:
        sharing.data_request_check(actor=bureau, request=gap, responsible=health,
                                   note="由卫生健康委员会编制“从业人员健康证明信息”资源")
    if settings.DEBUG:
        _demo_uses(grant.pk, credential)


def _consumer_cases(department_id: int) -> list[str]:
    """Two case numbers of the consuming department (the demo citizen's first): the uses are
    read "for" real cases, as the exchange requires of a number given with a call."""
    from tongban.cases.models import Case

    cases = Case.objects.filter(department_id=department_id, number__isnull=False)
    citizen = User.objects.filter(username="citizen").first()
    own = [n for n in cases.filter(applicant=citizen).order_by("-pk")
           .values_list("number", flat=True)[:2] if n]
    return own or [n for n in cases.order_by("-pk").values_list("number", flat=True)[:2] if n]


def _demo_uses(grant_id: int, credential: Credential) -> None:
    """A few recorded reads of 张明's data (his page is not empty), audited like real calls."""
    grant = credential.grant
    now = timezone.now()
    index = crypto.blind_index(DEMO_CITIZEN_ID)
    for days, case in zip((12, 3, 0), [*_consumer_cases(grant.consumer_id), "", "", ""],
                          strict=False):
        at = now - dt.timedelta(days=days, hours=2)
        record = audit_record(actor=None, action="exchange.read", object_type="exchange.Resource",
                              object_id=grant.resource.code,
                              detail={"consumer": grant.consumer_id, "grant": grant_id,
                                      "key": credential.prefix, "items": grant.field_keys,
                                      "case": case, "found": True, "subject_index": index,
                                      "demo": True})
        ExchangeUse.objects.create(
            at=at, grant=grant, consumer_id=grant.consumer_id,
            provider_id=grant.resource.provider_id, resource=grant.resource, person=None,
            field_keys=list(grant.field_keys), subject_index=index, case_number=case,
            found=True, audit_seq=record.seq)
