"""What the generated cases are made of: the demo catalog's items (with popularity), their
departments, halls and workflows, the staff who handle them, and the applicants' accounts.

Reads the database once; staff missing for a department (an officer and a head) are created,
applicants are written in bulk by :func:`applicant_rows` (encrypted like ``User.save`` would).
"""

from __future__ import annotations

import datetime as dt
import json
import random
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.utils import timezone
from stdnum.cn import ric, uscc

from tongban.accounts.models import Role, User
from tongban.cases.workflows.services import workflow_for
from tongban.catalog.models import Commitment, Item, Material, VersionStatus
from tongban.core import crypto
from tongban.organizations.models import Department, Hall

from .writer import Table

# Names to draw from (common surnames and given-name characters; companies by trade).
SURNAMES = ("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾"
            "肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢")
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红建文辉力成斌宁鹏飞婷雪琳晨浩宇欣怡"
TRADES = ["餐饮", "商贸", "科技", "建筑工程", "物流", "文化传媒", "农业开发", "医药", "教育咨询",
          "汽车服务", "家政服务", "环保科技", "食品", "装饰工程", "信息技术"]
DISTRICTS = ["城关区", "七里河区", "西固区", "安宁区", "红古区", "永登县", "皋兰县", "榆中县"]
# County-level divisions of 兰州 whose codes are real (ID numbers are checked against GB/T 2260);
# not 620102, the demo citizen's, so that no generated number can be theirs.
ID_REGIONS = ["620103", "620104", "620105", "620111", "620121", "620122", "620123", "620124"]


@dataclass
class Step:
    key: str
    name: str
    role: str
    department_id: int


@dataclass
class ItemInfo:
    item_id: int
    version_id: int
    name: str
    department_id: int
    division_code: str
    commitment: str
    limit_days: int  # the committed limit in days
    required_visits: int
    result_name: str
    receiving_unit_id: int | None
    materials: list[tuple[int, str]]
    workflow_id: int
    steps: list[Step]


@dataclass
class Staff:
    officers: dict[int, list[int]] = field(default_factory=dict)  # department → user ids
    heads: dict[int, list[int]] = field(default_factory=dict)
    clerks: list[int] = field(default_factory=list)
    proxies: list[int] = field(default_factory=list)
    names: dict[int, str] = field(default_factory=dict)  # user id → str(user)
    system_supervisor: str = "系统自动监察"

    def officer(self, rng: random.Random, department_id: int) -> int:
        return rng.choice(self.officers[department_id])

    def head(self, rng: random.Random, department_id: int) -> int:
        return rng.choice(self.heads[department_id])


class NoCatalog(Exception):
    """The database holds no published items: run ``load_demo`` first."""


def _steps(item: Item, definition: dict[str, Any]) -> list[Step]:
    by_key = {s["key"]: s for s in definition.get("steps", [])}
    steps: list[Step] = []
    key = definition.get("start")
    while key in by_key and len(steps) < 8:
        spec = by_key[key]
        department_id = item.department_id
        if spec.get("department") == "@receiving_unit" and item.current is not None \
                and item.current.receiving_unit_id:
            department_id = item.current.receiving_unit_id
        steps.append(Step(spec["key"], spec["name"], spec["role"], department_id))
        key = (spec.get("next") or ["end"])[0]
    return steps


def load_items(rng: random.Random) -> list[tuple[ItemInfo, float]]:
    """The published items with a popularity weight (Zipf-like over a seeded shuffle)."""
    items = list(Item.objects.select_related("current", "department__division")
                 .filter(current__status=VersionStatus.PUBLISHED).order_by("pk"))
    if not items:
        raise NoCatalog
    materials: dict[int, list[tuple[int, str]]] = {}
    for pk, version_id, name in (Material.objects.filter(version__in=[i.current_id for i in items])
                                 .order_by("version_id", "position")
                                 .values_list("pk", "version_id", "name")):
        materials.setdefault(version_id, []).append((pk, name))
    infos: list[ItemInfo] = []
    for item in items:
        version = item.current
        assert version is not None
        workflow = workflow_for(item, version.commitment)
        limit = version.committed_limit
        # Natural days counted as working days: a little longer, as the clock would not be.
        days = max(1, limit)
        if version.commitment in (Commitment.ON_THE_SPOT, Commitment.SAME_DAY):
            days = 1
        infos.append(ItemInfo(
            item_id=item.pk, version_id=version.pk, name=version.name,
            department_id=item.department_id,
            division_code=item.department.division.code[:6],
            commitment=version.commitment, limit_days=days,
            required_visits=version.required_visits, result_name=version.result_name,
            receiving_unit_id=version.receiving_unit_id,
            materials=materials.get(version.pk, [])[:4], workflow_id=workflow.pk,
            steps=_steps(item, workflow.definition)))
    rng.shuffle(infos)
    return [(info, 1.0 / (rank + 1) ** 1.1) for rank, info in enumerate(infos)]


def load_staff(items: list[ItemInfo]) -> Staff:
    """Officers and heads of every department that handles items (one of each created where
    the demo has none), the halls' clerks and proxy agents."""
    staff = Staff()
    needed = {s.department_id for i in items for s in i.steps} | {i.department_id for i in items}
    for user in User.objects.filter(role__in=[Role.OFFICER, Role.HEAD, Role.CLERK,
                                              Role.PROXY_AGENT], is_active=True):
        staff.names[user.pk] = str(user)
        if user.role == Role.OFFICER and user.department_id:
            staff.officers.setdefault(user.department_id, []).append(user.pk)
        elif user.role == Role.HEAD and user.department_id:
            staff.heads.setdefault(user.department_id, []).append(user.pk)
        elif user.role == Role.CLERK:
            staff.clerks.append(user.pk)
        elif user.role == Role.PROXY_AGENT:
            staff.proxies.append(user.pk)
    departments = {d.pk: d for d in Department.objects.filter(pk__in=needed)}
    rng = random.Random(7)
    for pk in sorted(needed):
        for role, pool, label in ((Role.OFFICER, staff.officers, "officer"),
                                  (Role.HEAD, staff.heads, "head")):
            if pool.get(pk):
                continue
            name = rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN)
            user = User.objects.create(
                username=f"load-{label}-{pk}", role=role, real_name=name,
                department=departments[pk], password=UNUSABLE_PASSWORD_PREFIX)
            pool[pk] = [user.pk]
            staff.names[user.pk] = str(user)
    if not staff.clerks:
        raise NoCatalog
    if not staff.proxies:
        staff.proxies = list(staff.clerks)
    return staff


def halls() -> list[tuple[int, str]]:
    """(hall id, division code) of every hall."""
    return [(pk, code[:6]) for pk, code in Hall.objects.values_list("pk", "division__code")]


@dataclass
class Applicant:
    user_id: int | None
    kind: str  # ApplicantKind value
    name: str
    id_number: str  # plain
    id_cipher: str
    phone_cipher: str
    form_json: str  # the JSON text of the encrypted form document


def _id_number(serial: int) -> str:
    """A valid 公民身份号码, a different one for every ``serial``."""
    region = ID_REGIONS[(serial // 3_000_000) % len(ID_REGIONS)]
    birth = dt.date(1950, 1, 1) + dt.timedelta(days=(serial // 1000) % 3000 * 7 + serial % 7)
    body = f"{region}{birth:%Y%m%d}{serial % 1000:03d}"
    return body + ric.calc_check_digit(body)


def _uscc(serial: int) -> str:
    body = f"91{ID_REGIONS[serial % len(ID_REGIONS)]}MA{serial:09d}"[:17]
    body = body[:8] + f"{serial:09d}"
    return body + uscc.calc_check_digit(body)


def applicant_table() -> Table:
    return Table(User, ["id", "password", "username", "role", "real_name", "id_number",
                        "id_number_index", "uscc", "legal_representative", "phone",
                        "date_joined"],
                 {"is_active": True, "is_staff": False, "is_superuser": False,
                  "first_name": "", "last_name": "", "email": "", "last_login": None,
                  "legal_representative_id_number": "", "department_id": None, "hall_id": None})


def make_applicants(rng: random.Random, *, citizens: int, companies: int, first_id: int,
                    joined: dt.datetime) -> tuple[list[Applicant], list[tuple[Any, ...]]]:
    """New citizen and enterprise accounts: the applicants, and their ``User`` rows."""
    applicants: list[Applicant] = []
    rows: list[tuple[Any, ...]] = []
    for n in range(citizens + companies):
        pk = first_id + n
        phone = f"1{rng.choice('3578')}{rng.randrange(10**9):09d}"
        if n < citizens:
            name = rng.choice(SURNAMES) + rng.choice(GIVEN) + (rng.choice(GIVEN) if rng.random() < .7 else "")
            number = _id_number(pk)
            id_cipher = crypto.encrypt_text(number)
            rows.append((pk, UNUSABLE_PASSWORD_PREFIX, f"load-c{pk}", Role.CITIZEN.value, name,
                         id_cipher, crypto.blind_index(number), "", "", crypto.encrypt_text(phone),
                         joined))
            kind = "natural_person"
        else:
            name = f"兰州{rng.choice(SURNAMES)}{rng.choice(GIVEN)}{rng.choice(TRADES)}有限公司{pk}"
            number = _uscc(pk)
            id_cipher = crypto.encrypt_text(number)
            rows.append((pk, UNUSABLE_PASSWORD_PREFIX, f"load-e{pk}", Role.ENTERPRISE.value, name,
                         "", "", number, rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN),
                         crypto.encrypt_text(phone), joined))
            kind = "legal_person"
        applicants.append(_applicant(pk, kind, name, number, id_cipher, phone))
    return applicants, rows


def _applicant(pk: int | None, kind: str, name: str, number: str, id_cipher: str,
               phone: str) -> Applicant:
    form = {"contact_name": name, "contact_phone": phone}
    return Applicant(pk, kind, name, number, id_cipher, crypto.encrypt_text(phone),
                     json.dumps(crypto.encrypt_json(form)))


def demo_applicants() -> list[Applicant]:
    """The demo citizen and enterprise accounts (they get many cases: the pages to measure)."""
    found: list[Applicant] = []
    for user in User.objects.filter(username__in=["citizen", "enterprise"]).order_by("username"):
        if user.role == Role.CITIZEN and user.id_number:
            found.append(_applicant(user.pk, "natural_person", user.real_name, user.id_number,
                                    crypto.encrypt_text(user.id_number), "13812345678"))
        elif user.role == Role.ENTERPRISE and user.uscc:
            found.append(_applicant(user.pk, "legal_person", user.real_name, user.uscc,
                                    crypto.encrypt_text(user.uscc), "13900000000"))
    return found


def walk_in(rng: random.Random, serial: int) -> Applicant:
    """A window applicant without an account."""
    name = rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN)
    number = _id_number(9_000_000 + serial % 1_000_000)
    return _applicant(None, "natural_person", name, number, crypto.encrypt_text(number),
                      f"139{rng.randrange(10**8):08d}")


def now() -> dt.datetime:
    return timezone.now()
