"""The catalog quality report (事项梳理), checked against a hand calculation on six items."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.catalog.bureau_factories import item_data, make_department, make_staff, publish
from tongban.accounts.models import Role, User
from tongban.catalog import reports, services
from tongban.organizations.models import Department, Division, Level

W = 5 / 7  # working days per natural day


@dataclass
class Known:
    a: Department  # 兰州市甲局 (city)
    b: Department  # 城关区乙局 (district 620102)
    c: Department  # 七里河区丙局 (district 620103)
    codes: dict[str, str]


@pytest.fixture
def known(db: None) -> Known:
    """Six published items whose figures are worked out by hand in the tests, plus items that
    must not count (a draft, a cancelled item, and a pending draft of a published item)."""
    bureau = make_staff("bureau-admin", Role.ADMIN, None)
    a = make_department("兰州市甲局")
    b = make_department("城关区乙局", division_code="620102", level=Level.COUNTY)
    c = make_department("七里河区丙局", division_code="620103", level=Level.COUNTY)
    no_visit: dict[str, Any] = {"required_visits": 0, "visit_reason": ""}
    specs: dict[str, tuple[Department, int, dict[str, Any]]] = {
        "A1": (a, 1, {"commitment": "on_the_spot", "legal_limit": 3, "committed_limit": 0,
                      "online_depth": 4, **no_visit}),
        "A2": (a, 2, {"legal_limit": 20, "committed_limit": 15, "required_visits": 2,
                      "online_depth": 2}),
        "A3": (a, 3, {"commitment": "same_day", "legal_limit": 10,
                      "legal_limit_unit": "natural_days", "committed_limit": 1}),
        "B1": (b, 1, {"legal_limit": 28, "legal_limit_unit": "natural_days",
                      "committed_limit": 10, "committed_limit_unit": "natural_days"}),
        "B2": (b, 2, {"commitment": "proxy", "legal_limit": 0, "committed_limit": 5,
                      "receiving_unit": b, "online_depth": 4, **no_visit}),
        "C1": (c, 1, {"legal_limit": 10, "committed_limit": 8, "required_visits": 2,
                      "online_depth": 1}),
    }
    codes = {}
    for key, (dept, seq, values) in specs.items():
        version = publish(item_data(dept, sequence=seq, name=f"事项{key}", **values), actor=bureau)
        codes[key] = version.item.implementation_code
    # Not counted: never published, cancelled, and a draft waiting on top of A2.
    services.item_save_draft(actor=bureau, data=item_data(a, sequence=9, name="草稿事项"))
    cancelled = publish(item_data(b, sequence=9, name="已取消事项", required_visits=5), actor=bureau)
    services.item_cancel(actor=bureau, item=cancelled.item, reason="取消")
    services.item_save_draft(actor=bureau, data=item_data(a, sequence=2, name="事项A2",
                                                          legal_limit=20, committed_limit=1,
                                                          required_visits=0, visit_reason=""))
    return Known(a=a, b=b, c=c, codes=codes)


# The hand calculation, item by item: (legal, committed) in working days, visits, fully online.
HAND = {
    "A1": (3, 0, 0, True),
    "A2": (20, 15, 2, False),
    "A3": (10 * W, 1, 1, False),
    "B1": (28 * W, 10 * W, 1, False),
    "B2": (None, 5, 0, True),  # no statutory limit: outside the time-reduction sums
    "C1": (10, 8, 2, False),
}


def expected(keys: list[str]) -> dict[str, Any]:
    rows = [HAND[k] for k in keys]
    timed = [(legal, committed) for legal, committed, _v, _o in rows if legal is not None]
    legal_sum = sum(legal for legal, _c in timed)
    saved_sum = sum(legal - committed for legal, committed in timed)
    return {
        "items": len(rows),
        "legal_days": legal_sum,
        "saved_days": saved_sum,
        "time_reduction": saved_sum / legal_sum,
        "max_one_visit_share": sum(1 for r in rows if r[2] <= 1) / len(rows),
        "zero_visit_share": sum(1 for r in rows if r[2] == 0) / len(rows),
        "fully_online_share": sum(1 for r in rows if r[3]) / len(rows),
    }


def figures(f: reports.Figures) -> dict[str, Any]:
    return {"items": f.items, "legal_days": pytest.approx(f.legal_days),
            "saved_days": pytest.approx(f.saved_days),
            "time_reduction": pytest.approx(f.time_reduction),
            "max_one_visit_share": pytest.approx(f.max_one_visit_share),
            "zero_visit_share": pytest.approx(f.zero_visit_share),
            "fully_online_share": pytest.approx(f.fully_online_share)}


def test_city_wide_figures(known: Known) -> None:
    report = reports.quality_report()
    scope = report.scope
    assert (scope.kind, scope.name) == ("city", "全市")
    assert figures(scope) == expected(["A1", "A2", "A3", "B1", "B2", "C1"])
    # Worked out: legal 3 + 20 + 50/7 + 20 + 10 = 60.14; saved 3 + 5 + (50/7 − 1) + 40/7 + 2 = 29.
    assert scope.saved_days == pytest.approx(29)
    assert scope.time_reduction == pytest.approx(29 / (53 + 50 / 7))
    assert scope.per_commitment == {"on_the_spot": 1, "same_day": 1, "time_limited": 3,
                                    "proxy": 1}
    assert (scope.max_one_visit, scope.zero_visit, scope.fully_online, scope.timed_items) == (
        4, 2, 2, 5)


def test_missed_targets_name_the_items_responsible(known: Known) -> None:
    scope = reports.quality_report().scope
    checks = {c.key: c for c in scope.checks}
    # 4/6 ≤ 1 visit < 85 %: the two items with 2 visits are responsible.
    assert not checks["max_one_visit_share"].met
    assert [i.implementation_code for i in checks["max_one_visit_share"].responsible] == sorted(
        [known.codes["A2"], known.codes["C1"]])
    # 2/6 need no visit ≥ 20 %: met.
    assert checks["zero_visit_share"].met
    # 48.2 % < 50 %: items whose committed/legal ratio exceeds 50 % — C1 (80 %) then A2 (75 %).
    assert not checks["time_reduction"].met
    assert [(i.implementation_code, round(i.limit_ratio or 0, 2))
            for i in checks["time_reduction"].responsible] == [
        (known.codes["C1"], 0.8), (known.codes["A2"], 0.75)]
    assert [c.key for c in scope.missed] == ["max_one_visit_share", "time_reduction"]


def test_per_department_figures(known: Known) -> None:
    rows = {f.name: f for f in reports.quality_report().departments}
    assert sorted(rows) == sorted(["兰州市甲局", "城关区乙局", "七里河区丙局"])
    assert figures(rows["兰州市甲局"]) == expected(["A1", "A2", "A3"])
    assert figures(rows["城关区乙局"]) == expected(["B1", "B2"])
    assert figures(rows["七里河区丙局"]) == expected(["C1"])
    assert rows["兰州市甲局"].key == known.a.uscc
    # 甲局: 2/3 ≤ 1 visit and (3 + 5 + 50/7 − 1)/(23 + 50/7) = 46.9 % both miss; 1/3 no visit is met.
    assert [c.key for c in rows["兰州市甲局"].missed] == ["max_one_visit_share", "time_reduction"]
    # 乙局: every item ≤ 1 visit, 1/2 none, reduction (20 − 50/7)/20 = 64.3 % (B2 has no limit).
    assert rows["城关区乙局"].missed == []
    assert rows["城关区乙局"].time_reduction == pytest.approx(1 - (50 / 7) / 20)
    assert [c.key for c in rows["七里河区丙局"].missed] == [
        "max_one_visit_share", "zero_visit_share", "time_reduction"]


def test_divisions_include_their_sub_divisions(known: Known) -> None:
    report = reports.quality_report()
    rows = {f.key: f for f in report.divisions}
    assert list(rows) == ["620000", "620100", "620102", "620103"]
    everything = expected(["A1", "A2", "A3", "B1", "B2", "C1"])
    assert figures(rows["620000"]) == everything  # the province above the city
    assert figures(rows["620100"]) == everything
    assert figures(rows["620102"]) == expected(["B1", "B2"])
    assert figures(rows["620103"]) == expected(["C1"])


def test_scope_of_a_division_or_department(known: Known) -> None:
    district = Division.objects.get(code="620102")
    report = reports.quality_report(division=district)
    assert (report.scope.kind, report.scope.name) == ("division", "城关区")
    assert figures(report.scope) == expected(["B1", "B2"])
    assert [f.name for f in report.departments] == ["城关区乙局"]
    assert [f.key for f in report.divisions] == ["620102"]

    report = reports.quality_report(department=known.c)
    assert (report.scope.kind, report.scope.key) == ("department", known.c.uscc)
    assert figures(report.scope) == expected(["C1"])


def test_targets_come_from_the_settings(known: Known, settings: Any) -> None:
    settings.CATALOG_TARGETS = {"max_one_visit_share": 0.6, "zero_visit_share": 0.4,
                                "time_reduction": 0.4}
    scope = reports.quality_report().scope
    assert [c.key for c in scope.missed] == ["zero_visit_share"]
    # With a 40 % reduction target, items above 60 % of the legal limit are responsible.
    time = next(c for c in scope.checks if c.key == "time_reduction")
    assert [i.implementation_code for i in time.responsible] == [known.codes["C1"],
                                                                 known.codes["A2"]]


def test_an_empty_scope_has_no_figures(db: None) -> None:
    scope = reports.quality_report().scope
    assert (scope.items, scope.time_reduction, scope.max_one_visit_share, scope.checks) == (
        0, None, None, [])


# --- the page -----------------------------------------------------------------------------------

def test_the_page_is_public_and_writes_the_formulas_next_to_the_figures(
        client: Client, known: Known) -> None:
    page = client.get(reverse("catalog:quality"))
    assert page.status_code == 200
    html = page.content.decode()
    reduction = f"{29 / (53 + 50 / 7) * 100:.1f}%"
    assert reduction == "48.2%"
    assert f"<td>{reduction}</td>" in html
    assert "Σ(法定办结时限 − 承诺办结时限) ÷ Σ法定办结时限 = 29.0 ÷ 60.1 个工作日（计入 5 项）" in html
    assert "乘以 5/7 折算为工作日" in html
    assert "到现场次数 ≤ 1 的事项数 ÷ 事项数 = 4 ÷ 6" in html
    assert "<td>66.7%</td>" in html and "≥ 85.0%" in html
    assert "最多跑一次事项占比未达标：实际 66.7%，目标 ≥ 85.0%。到现场次数多于1次的事项共 2 项" in html
    assert known.codes["C1"] in html


def test_the_page_costs_the_same_queries_for_more_items(client: Client, known: Known) -> None:
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(reverse("catalog:quality")).status_code == 200
        return len(captured)

    few = queries()
    bureau = User.objects.get(username="bureau-admin")
    for sequence in range(20, 26):
        publish(item_data(known.c, sequence=sequence, required_visits=2), actor=bureau)
    assert queries() == few


def test_the_page_filters_by_division_and_department(client: Client, known: Known) -> None:
    page = client.get(reverse("catalog:quality"), {"division": "620102"})
    assert (page.context["scope"].name, page.context["scope"].items) == ("城关区", 2)
    page = client.get(reverse("catalog:quality"), {"department": known.a.pk})
    assert (page.context["scope"].name, page.context["scope"].items) == ("兰州市甲局", 3)


# --- the API ------------------------------------------------------------------------------------

def test_the_json_report(client: Client, known: Known) -> None:
    response = client.get("/api/v1/quality-report")
    assert response.status_code == 200
    out = response.json()
    scope = out["scope"]
    want = expected(["A1", "A2", "A3", "B1", "B2", "C1"])
    assert scope["items"] == 6
    assert scope["time_reduction"] == pytest.approx(want["time_reduction"], abs=1e-4)
    assert scope["max_one_visit_share"] == pytest.approx(want["max_one_visit_share"], abs=1e-4)
    assert scope["zero_visit_share"] == pytest.approx(want["zero_visit_share"], abs=1e-4)
    assert scope["legal_days"] == pytest.approx(want["legal_days"], abs=0.01)
    assert scope["missed_targets"] == ["max_one_visit_share", "time_reduction"]
    checks = {c["key"]: c for c in scope["checks"]}
    assert [i["implementation_code"] for i in checks["time_reduction"]["responsible"]] == [
        known.codes["C1"], known.codes["A2"]]
    assert checks["zero_visit_share"]["responsible"] == []  # met: nothing to list
    assert out["targets"] == {"max_one_visit_share": 0.85, "zero_visit_share": 0.2,
                              "time_reduction": 0.5}
    assert "5/7" in out["formulas"]["time_reduction"]
    assert sorted(d["name"] for d in out["departments"]) == sorted(
        ["兰州市甲局", "城关区乙局", "七里河区丙局"])


def test_the_json_report_filters(client: Client, known: Known) -> None:
    by_division = client.get("/api/v1/quality-report", {"division": "620103"}).json()
    assert (by_division["scope"]["name"], by_division["scope"]["items"]) == ("七里河区", 1)
    for value in (known.b.uscc, str(known.b.pk)):
        by_department = client.get("/api/v1/quality-report", {"department": value}).json()
        assert (by_department["scope"]["name"], by_department["scope"]["items"]) == ("城关区乙局", 2)
    assert client.get("/api/v1/quality-report", {"division": "999999"}).status_code == 404
    assert client.get("/api/v1/quality-report", {"department": "nobody"}).status_code == 404


def test_staff_and_citizens_see_the_same_report(client: Client, known: Known,
                                                citizen: User) -> None:
    anonymous = client.get("/api/v1/quality-report").json()
    client.force_login(citizen)
    assert client.get("/api/v1/quality-report").json() == anonymous
