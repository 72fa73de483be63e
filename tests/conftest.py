"""Shared fixtures: named personas and the demo catalog.

Tests run on SQLite by default and on PostgreSQL when TONGBAN_DATABASE_URL points at one.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from tests.factories import DepartmentFactory, HallFactory, UserFactory, division, uscc
from tongban.accounts.models import ApiToken, Role, User
from tongban.organizations.models import Department, Hall

REPO = Path(__file__).resolve().parent.parent
DEMO_WORKBOOK = REPO / "src" / "tongban" / "demo" / "data" / "demo-catalog.xlsx"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-query-counts", action="store_true", default=False,
                     help="rewrite tests/query_counts.json with the query counts measured now "
                          "(also TONGBAN_UPDATE_QUERY_COUNTS=1)")


def make_user(username: str, role: str, **extra: object) -> User:
    """An account with the tests' password (``tests.factories.UserFactory``)."""
    user: User = UserFactory.create(username=username, role=role, **extra)
    return user


Freeze = Callable[[datetime], None]


@pytest.fixture
def freeze(time_machine: Any) -> Iterator[Freeze]:
    """``freeze(instant)``: from then on every clock of the process (``timezone.now()`` in the
    services, the audit log, the upload times) reads ``instant`` and stands still until the
    next call or the end of the test (time-machine)."""
    from tongban.cases.workflows import services as workflows

    def to(instant: datetime) -> None:
        time_machine.move_to(instant, tick=False)

    # Parsed workflow definitions are kept by (id, created_at); under a frozen clock two tests
    # can create different definitions with the same id (SQLite reuses rolled-back ids) at the
    # same instant.
    workflows._parsed.clear()
    yield to
    workflows._parsed.clear()


@pytest.fixture
def budget(request: pytest.FixtureRequest) -> Any:
    """The lists a query-count test measures (``tests/query_budget.py``)."""
    from tests.query_budget import Budget, updating

    return Budget(updating(request.config))


@pytest.fixture
def admin_user(db: None) -> User:
    """The bureau administrator (政务服务管理局) who maintains the catalog."""
    return make_user("bureau", Role.ADMIN)


@pytest.fixture
def citizen(db: None) -> User:
    return make_user("citizen", Role.CITIZEN, id_number="620102199001011233")


# --- organisations (added for the accounts, organizations and demo tests) -------------------

def make_uscc(serial: int, *, division_code: str = "620100", kind: str = "11") -> str:
    """A valid 统一社会信用代码 (GB 32100 check character) built from a small serial number."""
    return uscc(serial, division_code=division_code, kind=kind)


def make_department(name: str, *, serial: int, division_code: str = "620100",
                    level: str = "city", **extra: Any) -> Department:
    """A department stored directly (tests of the services build theirs through the services)."""
    department: Department = DepartmentFactory.create(
        name=name, uscc=make_uscc(serial, division_code=division_code[:6]),
        division=division(division_code), level=level, **extra)
    return department


@pytest.fixture
def city_department(db: None) -> Department:
    """兰州市市场监督管理局, a city-level department."""
    return make_department("兰州市市场监督管理局", serial=1,
                           consultation_phone="0931-8619275", complaint_phone="0931-8702163")


@pytest.fixture
def city_hall(db: None) -> Hall:
    """兰州市政务服务中心, the city's hall, with no windows or office periods yet."""
    hall: Hall = HallFactory.create(name="兰州市政务服务中心")
    return hall


@pytest.fixture
def issue_token(db: None) -> Callable[[User], str]:
    """A function issuing a bearer token for a user directly (without the login endpoint)."""

    def issue(user: User) -> str:
        token = secrets.token_urlsafe(32)
        ApiToken.objects.create(user=user, digest=hashlib.sha256(token.encode()).hexdigest(),
                                expires_at=timezone.now() + timedelta(hours=1))
        return token

    return issue


@pytest.fixture
def bureau_admin(db: None) -> User:
    """The bureau administrator as ``user_create`` makes one: allowed into the admin site."""
    return make_user("bureau-admin", Role.ADMIN, real_name="吴刚", is_staff=True)


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: Any) -> None:
    """Argon2 is deliberately slow; tests create many users and need no protection from it."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _empty_cache() -> None:
    """Each test starts with an empty cache: the database starts afresh in each test and may
    give a new row an id a kept entry of an earlier test still names (catalog.guide_cache)."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def _chinese_by_default() -> Any:
    """Each test starts in the default language: a request with ``Accept-Language: en`` leaves
    English active in its thread, which would otherwise leak into the next test."""
    from django.utils import translation

    translation.activate("zh-hans")
    yield
    translation.deactivate()


@pytest.fixture(scope="session")
def _audit_files_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("audit-files")


@pytest.fixture(autouse=True)
def _audit_files_of_the_test(settings: Any, _audit_files_dir: Path,
                             request: pytest.FixtureRequest) -> None:
    """The audit signing key and the chain-head file stay out of the developer's own directories;
    each test has its own head file (the database starts afresh in each test, the file would not)."""
    settings.AUDIT_KEY_DIR = str(_audit_files_dir / "keys")
    name = hashlib.sha256(request.node.nodeid.encode()).hexdigest()[:16]
    settings.AUDIT_HEAD_FILE = str(_audit_files_dir / f"head-{name}.log")


@pytest.fixture(autouse=True)
def _two_factor_optional(settings: Any) -> None:
    """Tests log administrators and supervisors in without a second factor (``force_login``);
    the two-factor tests (tests/accounts/test_two_factor.py) switch the requirement on, as it is
    in production (``TONGBAN_2FA_REQUIRED``, on outside debug mode)."""
    settings.TWO_FACTOR_REQUIRED = False


@pytest.fixture(autouse=True)
def _immutable_rows_forgotten() -> None:
    """Rows kept per process as immutable (``core.prepared.Immutable``) are forgotten before
    each test: the test's database may reuse the primary keys of the previous test's rows."""
    from tongban.core.prepared import Immutable

    Immutable.clear_all()


@pytest.fixture(autouse=True)
def _kept_case_details_forgotten() -> None:
    """API case details kept in the process (``cases.detail``) are forgotten before each test,
    for the same reason: a new case may get the id, version and event count of an earlier one."""
    from tongban.cases.detail import kept_details

    kept_details.clear()


@pytest.fixture(autouse=True)
def _tasks_run_immediately(settings: Any) -> None:
    """Background tasks run at once in the test's process (``tongban worker`` runs them in
    production); tests of the queue itself switch back to the database backend."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend",
                                  "QUEUES": ["default"]}}
