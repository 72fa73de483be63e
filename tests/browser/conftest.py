"""Browser tests: Playwright for Python driving Debian's Chromium against a live server.

No browser is downloaded: ``/usr/bin/chromium`` comes from Debian (``scripts/system.sh`` installs
it). Every test here is marked ``browser``. The server is pytest-django's ``live_server`` (a real
HTTP server in a thread, on the test database); ``demo_city`` loads the demo city into it with
``tongban load_demo`` — the catalog, halls, one account per role (password ``tongban-demo``) and
the forms of the journey items — exactly what the README's start command loads.

Fixtures: ``browser`` (one Chromium per worker), ``page`` (desktop, zh-CN, Asia/Shanghai),
``phone_page`` (390×844, touch), ``live_url``, ``login``, ``axe_violations``.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from pytest_django.fixtures import Settings

# Playwright's sync API keeps an event loop running in this thread; Django would otherwise
# refuse the test's own ORM calls as "async unsafe". The live server runs in its own thread.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("TONGBAN_CHROMIUM", "/usr/bin/chromium")
AXE = REPO / "node_modules" / "axe-core" / "axe.min.js"
DEMO_PASSWORD = "tongban-demo"
# Demo usernames that log in at the staff door (the others are citizens and companies).
DEMO_STAFF = {"clerk", "officer", "head", "proxy", "supervisor", "data", "admin"}
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--disable-dev-shm-usage"]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test here is marked ``browser`` and runs against committed data (the live server is
    another thread) with serialized rollback: the flush after a transactional test empties every
    table, the rows the data migrations seed included, and serialized rollback puts them back
    before the next such test."""
    here = str(Path(__file__).parent)
    for item in items:
        if str(item.fspath).startswith(here):
            item.add_marker(pytest.mark.browser)
            item.own_markers = [m for m in item.own_markers if m.name != "django_db"]
            item.add_marker(pytest.mark.django_db(transaction=True, serialized_rollback=True))


# The data migrations whose rows the demo needs (each ``seed`` is idempotent).
SEEDS = ("tongban.organizations.migrations.0002_seed_divisions",
         "tongban.clock.migrations.0002_seed_from_chinesecalendar",
         "tongban.catalog.migrations.0003_default_synonyms",
         "tongban.scheduling.migrations.0002_seed_schedules")


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not shutil.which(CHROMIUM) and not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM} (scripts/system.sh installs Debian's chromium)")
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=60_000)  # the assertions retry until true, like the actions

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS,
                                              headless=True)
        yield chromium
        chromium.close()


def _context(browser: Any, **options: Any) -> Any:
    context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai",
                                  accept_downloads=True, **options)
    # Generous: a busy two-core CI machine renders slowly; every wait ends as soon as its
    # condition holds, so a healthy run never waits this long.
    context.set_default_timeout(60_000)
    return context


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A desktop browser tab (1280×900)."""
    context = _context(browser, viewport={"width": 1280, "height": 900})
    yield context.new_page()
    context.close()


@pytest.fixture
def phone_page(browser: Any) -> Iterator[Any]:
    """A phone-sized tab (390×844, touch, mobile user agent)."""
    context = _context(browser, viewport={"width": 390, "height": 844}, is_mobile=True,
                       has_touch=True, device_scale_factor=2)
    yield context.new_page()
    context.close()


@pytest.fixture
def live_url(live_server: Any) -> str:
    return str(live_server.url)


@pytest.fixture
def demo_city(live_server: Any, settings: Settings) -> None:
    """The demo city of ``tongban load_demo`` in the live server's database."""
    import importlib

    from django.apps import apps

    from tongban.clock.selectors import forget_calendar
    from tongban.organizations.models import Division

    if not Division.objects.exists():  # a flush without serialized rollback came first
        for module in SEEDS:
            importlib.import_module(module).seed(apps, None)
        forget_calendar()
    settings.DEBUG = True  # load_demo refuses otherwise (shared demo password)
    call_command("load_demo", stdout=StringIO())
    settings.DEBUG = False


@pytest.fixture
def login(live_url: str) -> Callable[..., None]:
    """``login(page, "citizen")``: log in through the login page with a demo account — the staff
    page (``/accounts/staff/login/``) for the demo staff usernames, the public page otherwise."""

    def do(page: Any, username: str, password: str = DEMO_PASSWORD, *, path: str = "") -> None:
        door = "/accounts/staff/login/" if username in DEMO_STAFF else "/accounts/login/"
        page.goto(live_url + (path or door))
        page.get_by_label("用户名").fill(username)
        page.get_by_label("密码").fill(password)
        page.get_by_role("button", name="登录").click()
        page.wait_for_load_state()

    return do


@pytest.fixture
def axe_violations() -> Callable[[Any], list[dict[str, Any]]]:
    """``axe_violations(page)``: axe-core's serious and critical violations on the open page.

    axe-core is the npm package pinned in package-lock.json (``node_modules``, installed by
    ``scripts/lib.sh``), injected into the page; nothing is fetched from the network.
    """
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: run `npm ci` (scripts/lib.sh does)")

    def run(page: Any) -> list[dict[str, Any]]:
        # Evaluated, not added as a <script> element: the pages' Content-Security-Policy allows
        # no inline script (evaluation from the test is outside the page's policy).
        if not page.evaluate("() => typeof axe !== 'undefined'"):
            page.evaluate(AXE.read_text(encoding="utf-8"))
        result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
        return [{"id": v["id"], "impact": v["impact"], "help": v["help"],
                 "nodes": [n["target"] for n in v["nodes"]][:5]}
                for v in result["violations"] if v["impact"] in ("serious", "critical")]

    return run
