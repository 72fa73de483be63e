"""Query counts of the e-licence library's list pages and API lists (see
``tests/query_budget.py``): the wallet, the department's licences, the licences authorised to a
department, the licence types, and the API's lists of them."""

from __future__ import annotations

from itertools import count

import pytest

from tests.conftest import make_user
from tests.licences.conftest import food_surface
from tests.query_budget import LARGE, SMALL, Budget, client_for
from tongban.accounts.models import Role, User
from tongban.accounts.permissions import SYSTEM
from tongban.licences import services
from tongban.licences.models import LicenceType
from tongban.organizations.models import Department

pytestmark = pytest.mark.django_db

CITIZEN_ID = "620102199001011233"
COMPANY_USCC = "91620102MA7123456T"


def test_licence_lists(budget: Budget, licence_types: dict[str, LicenceType],
                       people: dict[str, User]) -> None:
    serial = count(1)
    citizen = make_user("zhangming", Role.CITIZEN, real_name="张明", id_number=CITIZEN_ID)
    company = make_user("shili", Role.ENTERPRISE, real_name="兰州示例餐饮有限公司",
                        uscc=COMPANY_USCC)
    market = Department.objects.get(name="兰州市市场监督管理局")
    bureau = Department.objects.get(name="兰州市大数据管理局")
    bureau.is_data_bureau = True
    bureau.save(update_fields=["is_data_bureau"])
    keeper = make_user("bureau_data", Role.DATA_OFFICER, department=bureau)

    def add_rows(rows: int) -> None:
        """Per row: a 食品经营许可证 of the company (authorised to the market bureau) and a
        不动产权证书 of the citizen (authorised too), and a licence type."""
        for _ in range(rows):
            n = next(serial)
            food = services.licence_issue(
                actor=SYSTEM, licence_type=licence_types["食品经营许可证"], issuer=market,
                holder=services.Holder("legal_person", "兰州示例餐饮有限公司", COMPANY_USCC),
                surface=food_surface())
            services.authorization_grant(actor=company, licence=food, department=market,
                                         purpose=f"办件{n}")
            estate_type = licence_types["不动产权证书"]
            estate = services.licence_issue(
                actor=SYSTEM, licence_type=estate_type, issuer=estate_type.department,
                holder=services.Holder("natural_person", "张明", CITIZEN_ID),
                surface={"share": "单独所有", "location": f"兰州市城关区皋兰路{n}号",
                         "unit_number": f"620102001001GB00001F{n:08d}",
                         "right_type": "房屋所有权", "usage": "住宅", "area": "90.5"})
            services.authorization_grant(actor=citizen, licence=estate, department=market,
                                         purpose=f"用证{n}")
            services.licence_type_save(actor=SYSTEM, data=services.LicenceTypeData(
                code=f"11100000000013127D{500 + n:03d}", name=f"测试证照{n}",
                holder_kind="legal_person", department=market,
                fields=[{"key": "company_name", "name": "名称", "element": "DE00020"}]))

    add_rows(SMALL)
    holder, own = client_for(company), client_for(citizen)
    officer, keeper_client = client_for(people["officer"]), client_for(keeper)
    anonymous = client_for(None)
    budget.add("page /licences/mine/", own, "/licences/mine/")
    budget.add("page /licences/mine/ (company)", holder, "/licences/mine/")
    budget.add("page /licences/issued/", officer, "/licences/issued/")
    budget.add("page /licences/authorized/", officer, "/licences/authorized/")
    budget.add("page /licences/types/", keeper_client, "/licences/types/")
    budget.add("api /me/licences", own, "/api/v1/me/licences")
    budget.add("api /licence-types", anonymous, "/api/v1/licence-types")
    budget.add("api /licence-authorizations (holder)", holder, "/api/v1/licence-authorizations")
    budget.add("api /licence-authorizations (department)", officer,
               "/api/v1/licence-authorizations")
    budget.check(lambda: add_rows(LARGE - SMALL))
