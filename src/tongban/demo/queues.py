"""The demo halls' queue categories, created by ``tongban load_demo`` through ``category_save``.

A category with departments is served by the windows of those departments and by comprehensive
windows; one without (综合受理) only by comprehensive windows. Running it again changes nothing.
"""

from __future__ import annotations

from tongban.accounts.permissions import SYSTEM
from tongban.organizations.models import Department, Hall
from tongban.queues import services
from tongban.queues.models import ServiceCategory

CITY_CATEGORIES: list[tuple[str, str, tuple[str, ...]]] = [
    ("A", "综合受理", ()),
    ("B", "企业开办", ("兰州市市场监督管理局", "兰州市税务局")),
    ("C", "社保医保", ("兰州市人力资源和社会保障局", "兰州市医疗保障局")),
    ("D", "不动产登记", ("兰州市自然资源局",)),
    ("E", "公安户政", ("兰州市公安局",)),
    ("F", "住房公积金", ("兰州市住房公积金管理中心",)),
]


def _district(district: str) -> list[tuple[str, str, tuple[str, ...]]]:
    return [("A", "综合受理", ()), ("B", "市场监管", (f"{district}市场监督管理局",)),
            ("C", "民政", (f"{district}民政局",)),
            ("D", "人社", (f"{district}人力资源和社会保障局",))]


def _categories_of(hall: Hall) -> list[tuple[str, str, tuple[str, ...]]]:
    if hall.name == "兰州市政务服务中心":
        return CITY_CATEGORIES
    if hall.name.endswith("区政务服务中心"):
        return _district(hall.name.removesuffix("政务服务中心"))
    if hall.name.endswith("便民服务中心"):
        return [("A", "综合受理", ()), ("B", "代办服务", (hall.name,))]
    return []


def load_demo_categories(halls: list[str]) -> None:
    """Create or bring up to date the queue categories of the named demo halls."""
    for hall in Hall.objects.filter(name__in=halls):
        for position, (code, name, departments) in enumerate(_categories_of(hall)):
            services.category_save(
                actor=SYSTEM, category=ServiceCategory.objects.filter(hall=hall, code=code).first(),
                fields=services.CategoryFields(
                    hall=hall, code=code, name=name, position=position,
                    departments=list(Department.objects.filter(name__in=departments)),
                    commitments=["proxy"] if name == "代办服务" else []))
