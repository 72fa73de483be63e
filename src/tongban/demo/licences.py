"""The demo city's e-licences: 张明's 居民身份证, 结婚证 and 不动产权证书, his daughter's
出生医学证明, the demo company's 营业执照 and 食品经营许可证, and licences of some of the synthetic
people and companies of the data layer's demo (:mod:`tongban.demo.data_sharing`).

Every licence is issued through the library's own service (``licences.services.licence_issue``,
as the system): signed with the installation's licence key, audited, verifiable. Running it again
issues nothing twice: a (type, holder) pair that already has a licence is skipped.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.db import transaction

from tongban.accounts.permissions import SYSTEM
from tongban.core import crypto
from tongban.demo.data_sharing import (
    DEMO_CITIZEN_ID,
    DEMO_CITIZEN_NAME,
    DEMO_COMPANY_NAME,
    DEMO_COMPANY_USCC,
    _companies,
    _people,
    id_check,
)
from tongban.licences import services
from tongban.licences.models import HolderKind, Licence, LicenceType

SEED = 20261207  # the data layer's seed: the same synthetic people and companies
SYNTHETIC_PEOPLE = 40  # of the 10,000: each gets a 居民身份证; some also other licences
SYNTHETIC_COMPANIES = 20  # of the 2,000: each gets a 营业执照; the caterers a 食品经营许可证

ETHNICITIES = {"01": "汉族", "03": "回族", "04": "藏族", "19": "东乡族", "35": "土族"}
SEXES = {"1": "男", "2": "女"}
HOSPITALS = ("兰州大学第一医院", "甘肃省妇幼保健院", "兰州市第一人民医院", "兰州大学第二医院")


@dataclass(frozen=True)
class DemoLicence:
    type_name: str
    holder: services.Holder
    surface: dict[str, Any]


def _person(kind_name: str, row: dict[str, str], **surface: Any) -> DemoLicence:
    return DemoLicence(kind_name, services.Holder(HolderKind.NATURAL_PERSON, row["name"],
                                                  row["id_number"]), surface)


def identity_card(row: dict[str, str]) -> DemoLicence:
    return _person("居民身份证", row, gender=SEXES.get(row["sex"], ""),
                   ethnicity=ETHNICITIES.get(row["ethnicity"], "汉族"),
                   birth_date=row["birth_date"], address=row["address"])


def marriage(row: dict[str, str], spouse: dict[str, str], on: str, number: str) -> DemoLicence:
    return _person("结婚证", row, spouse_name=spouse["name"], spouse_id=spouse["id_number"],
                   registration_date=on, certificate_number=number)


def real_estate(row: dict[str, str], *, location: str, unit: str, area: str,
                share: str = "单独所有") -> DemoLicence:
    return _person("不动产权证书", row, share=share, location=location, unit_number=unit,
                   right_type="国有建设用地使用权/房屋所有权", usage="住宅", area=area)


def birth(child: dict[str, str], *, mother: str, father: str, hospital: str) -> DemoLicence:
    return _person("出生医学证明", child, birth_date=child["birth_date"],
                   birth_place=f"甘肃省兰州市{hospital}", mother_name=mother, father_name=father,
                   institution=hospital)


def business(row: dict[str, str]) -> DemoLicence:
    return DemoLicence("营业执照", services.Holder(HolderKind.LEGAL_PERSON, row["company_name"],
                                                  row["uscc"]), {
        "company_name": row["company_name"], "company_type": row["company_type"],
        "legal_representative": row["legal_representative"],
        "registered_capital": row["registered_capital"], "domicile": row["address"],
        "business_scope": row["business_scope"]})


def food(row: dict[str, str], item: str) -> DemoLicence:
    return DemoLicence("食品经营许可证", services.Holder(HolderKind.LEGAL_PERSON, row["company_name"],
                                                      row["uscc"]), {
        "business_name": row["company_name"], "legal_representative": row["legal_representative"],
        "premises": row["address"], "business_item": item})


def _child(first17_prefix: str, born: dt.date, serial: int) -> str:
    first17 = f"{first17_prefix}{born:%Y%m%d}{serial:03d}"
    return first17 + id_check(first17)


def planned() -> Iterator[DemoLicence]:
    """Every demo licence, in a fixed order (deterministic: the data layer's seed)."""
    rng = random.Random(SEED)
    people, companies = _people(rng), _companies(rng)
    zhang, others = people[0], people[1:]
    assert zhang["id_number"] == DEMO_CITIZEN_ID
    # 张明: his identity card, his marriage to 王芳 (a synthetic woman of his age), their home.
    spouse = next(p for p in others if p["sex"] == "2" and p["birth_date"].startswith("199"))
    yield identity_card(zhang)
    yield marriage(zhang, spouse, "2018-10-01", "兰城结字第2018001234号")
    yield marriage(spouse, zhang, "2018-10-01", "兰城结字第2018001234号")
    yield real_estate(zhang, location="兰州市城关区皋兰路1号3单元502室",
                      unit="620102001001GB00001F00010052", area="98.6", share="共同共有")
    daughter = {"name": "张" + "欣怡", "id_number": _child("620102", dt.date(2021, 5, 18), 22),
                "birth_date": "2021-05-18"}
    yield birth(daughter, mother=spouse["name"], father=DEMO_CITIZEN_NAME,
                hospital="甘肃省妇幼保健院")
    # The demo company (兰州示例餐饮有限公司, the `enterprise` account).
    company = companies[0]
    assert company["uscc"] == DEMO_COMPANY_USCC and company["company_name"] == DEMO_COMPANY_NAME
    yield business(company)
    yield food(company, "热食类食品制售")
    # Synthetic people: identity cards; every fourth couple married; some homes; the younger
    # ones' 出生医学证明.
    chosen = others[:SYNTHETIC_PEOPLE]
    for row in chosen:
        yield identity_card(row)
    for i in range(0, SYNTHETIC_PEOPLE - 1, 8):
        a, b = chosen[i], chosen[i + 1]
        yield marriage(a, b, f"20{10 + i // 8:02d}-05-20", f"兰结字第20{10 + i // 8:02d}{i:06d}号")
    for i, row in enumerate(chosen[2:SYNTHETIC_PEOPLE:5]):
        yield real_estate(row, location=f"{row['address']}{i + 1}单元{rng.randrange(1, 30)}01室",
                          unit=f"620102{i:06d}GB{rng.randrange(10**5):05d}F{rng.randrange(10**8):08d}",
                          area=f"{rng.randrange(45, 160)}.{rng.randrange(10)}")
    for row in [p for p in chosen if p["birth_date"] >= "1996-01-01"][:6]:
        yield birth(row, mother=rng.choice("王李张刘陈杨") + rng.choice("芳娜敏静丽"),
                    father=row["name"][0] + rng.choice("伟强磊军洋"),
                    hospital=rng.choice(HOSPITALS))
    # Synthetic companies: business licences; the caterers also food business licences.
    for row in companies[1:SYNTHETIC_COMPANIES + 1]:
        yield business(row)
        if row["business_scope"].startswith("餐饮"):
            yield food(row, rng.choice(("热食类食品制售", "预包装食品销售", "自制饮品制售")))


@transaction.atomic
def load_demo_licences() -> int:
    """Issue the demo licences not issued yet; returns how many were issued now."""
    types = {t.name: t for t in LicenceType.objects.select_related("department")}
    issued = 0
    for demo in planned():
        licence_type = types.get(demo.type_name)
        if licence_type is None:
            continue  # a custom types file without it
        held = Licence.objects.filter(
            type=licence_type, holder_id_index__in=crypto.blind_indexes(demo.holder.id.upper()))
        if held.exists():
            continue
        services.licence_issue(actor=SYSTEM, licence_type=licence_type,
                               issuer=licence_type.department, holder=demo.holder,
                               surface=demo.surface)
        issued += 1
    return issued
