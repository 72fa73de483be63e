"""Query counts of the catalog's public lists and the bureau's (see ``tests/query_budget.py``)."""

from __future__ import annotations

import pytest

from tests.query_budget import LARGE, SMALL, Budget, client_for

pytestmark = pytest.mark.django_db


# --- the catalog: public lists, search, departments, the power list, the bureau's lists -------

def test_catalog_lists(budget: Budget) -> None:
    from tests.catalog.bureau_factories import item_data, make_department, make_staff, publish, with_changes
    from tongban.accounts.models import Role
    from tongban.accounts.permissions import SYSTEM
    from tongban.catalog import services

    shared = make_department("兰州市测试局")
    admin = make_staff("bureau-admin", Role.ADMIN, None)
    officer = make_staff("officer", Role.OFFICER, shared)

    def add_items(start: int, count: int) -> None:
        """Published items (every other one in a department of its own), as many drafts under
        review (the officer's department's), and a new version of the first item for each."""
        for n in range(start, start + count):
            department = shared if n % 2 else make_department(f"兰州市测试{n}局")
            data = item_data(department, sequence=n, topics=["就业创业"])
            publish(data)
            publish(with_changes(first, name=f"测试事项1（第{n}次修订）"))
            draft = services.item_save_draft(actor=SYSTEM, data=item_data(
                shared, sequence=100 + n, name=f"待审事项{n}"))
            services.version_submit(actor=SYSTEM, version=draft)

    first = item_data(shared, sequence=1, topics=["就业创业"])
    publish(first)
    add_items(2, SMALL - 1)
    code = first.implementation_code
    anonymous, admin_client, officer_client = client_for(None), client_for(admin), client_for(officer)
    for name, url, params in [
        ("page /", "/", {}), ("page /lists/", "/lists/", {}),
        ("page /lists/<commitment>/", "/lists/time_limited/", {}), ("page /items/", "/items/", {}),
        ("page /search/", "/search/", {"q": "测试事项"}), ("page /topics/", "/topics/", {}),
        ("page /topics/events/<slug>/", "/topics/events/work/", {}),
        ("page /power-list/", "/power-list/", {}), ("page /departments/", "/departments/", {}),
        ("page /departments/<uscc>/", f"/departments/{shared.uscc}/", {}),
        ("page /items/<code>/versions/", f"/items/{code}/versions/", {}),
        ("page /quality/", "/quality/", {}),
        ("api /items", "/api/v1/items", {}), ("api /items?q=", "/api/v1/items", {"q": "测试事项"}),
        ("api /lists", "/api/v1/lists", {}), ("api /power-list", "/api/v1/power-list", {}),
        ("api /departments", "/api/v1/departments", {}), ("api /divisions", "/api/v1/divisions", {}),
        ("api /items/<code>/versions", f"/api/v1/items/{code}/versions", {}),
        ("api /quality-report", "/api/v1/quality-report", {}),
    ]:
        budget.add(name, anonymous, url, **params)
    budget.add("page /bureau/items/ (admin)", admin_client, "/bureau/items/")
    budget.add("page /bureau/items/ (officer)", officer_client, "/bureau/items/")
    budget.add("page /bureau/review/", admin_client, "/bureau/review/")
    budget.add("page /bureau/items/<code>/history/", officer_client, f"/bureau/items/{code}/history/")
    budget.add("api /drafts (admin)", admin_client, "/api/v1/drafts")
    budget.add("api /drafts (officer)", officer_client, "/api/v1/drafts")
    budget.add("api /items/<code>/history", officer_client, f"/api/v1/items/{code}/history")
    budget.check(lambda: add_items(SMALL + 1, LARGE - SMALL))
