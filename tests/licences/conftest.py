"""The e-licence library's fixtures: the demo catalog and personas (tests/cases), the demo
licence types (with the data elements their surfaces bind) and a signing key of the test's own."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from tests.cases.conftest import catalog, demo_forms, people
from tests.conftest import make_user
from tongban.accounts.models import Role, User
from tongban.accounts.permissions import SYSTEM
from tongban.licences import services
from tongban.licences.models import Licence, LicenceType
from tongban.organizations.models import Department

DEMO_TYPES = (Path(__file__).resolve().parents[2] / "src" / "tongban" / "demo" / "data"
              / "demo-licence-types.json")
TYPE_ELEMENTS = ("DE00001", "DE00002", "DE00004", "DE00006", "DE00020", "DE00021", "DE00022",
                 "DE00023", "DE00024", "DE00026", "DE00027", "DE00041", "DE00042", "DE00043",
                 "DE00044", "DE00045", "DE00046", "DE00047", "DE00050", "DE00051", "DE00052",
                 "DE00054", "DE00061", "DE00062", "DE00063", "DE00064", "DE00065", "DE00068",
                 "DE00075")
__all__ = ["catalog", "demo_forms", "people"]

MARKET_USCC = "11620100051317876B"
COMPANY_USCC = "91620102MA7123456T"


@pytest.fixture(autouse=True)
def _licence_key_of_the_test(settings: Any, tmp_path: Path) -> None:
    """Each test signs with a key of its own, generated into its own directory."""
    settings.LICENCE_SIGNING_KEY_FILE = ""
    settings.AUDIT_KEY_DIR = str(tmp_path / "keys")


@pytest.fixture
def licence_types(db: None, people: dict[str, User]) -> dict[str, LicenceType]:
    """The demo licence types (营业执照, 食品经营许可证, 居民身份证, 结婚证, 出生医学证明, 不动产权证书)."""
    from tests.exchange.conftest import publish_demo_elements

    publish_demo_elements(*TYPE_ELEMENTS)
    call_command("import_licence_types", str(DEMO_TYPES), verbosity=0)
    return {t.name: t for t in LicenceType.objects.select_related("department")}


def food_surface() -> dict[str, Any]:
    return {"business_name": "兰州示例餐饮有限公司", "legal_representative": "李华",
            "premises": "兰州市城关区庆阳路100号", "business_item": "热食类食品制售"}


def issue_food_licence(types: dict[str, LicenceType], *, holder_id: str = COMPANY_USCC) -> Licence:
    market = Department.objects.get(uscc=MARKET_USCC)
    return services.licence_issue(
        actor=SYSTEM, licence_type=types["食品经营许可证"], issuer=market,
        holder=services.Holder("legal_person", "兰州示例餐饮有限公司", holder_id),
        surface=food_surface())


@pytest.fixture
def company(db: None) -> User:
    return make_user("shili", Role.ENTERPRISE, real_name="兰州示例餐饮有限公司", uscc=COMPANY_USCC)


@pytest.fixture
def told(django_capture_on_commit_callbacks: Any) -> Any:
    """``with told(): …``: run what the block queued for after commit (the holder's messages)."""
    return lambda: django_capture_on_commit_callbacks(execute=True)
