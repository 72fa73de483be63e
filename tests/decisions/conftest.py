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
