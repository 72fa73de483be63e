"""The demo halls' queue categories (``tongban load_demo`` calls ``load_demo_categories``)."""

from __future__ import annotations

from tests.conftest import make_department
from tongban.audit.models import AuditRecord
from tongban.demo.queues import load_demo_categories
from tongban.organizations.models import Division, Hall
from tongban.queues.models import ServiceCategory


def test_demo_categories_are_created_once(db: None) -> None:
    city = Division.objects.get(code="620100")
    market = make_department("兰州市市场监督管理局", serial=1)
    Hall.objects.create(name="兰州市政务服务中心", division=city)
    Hall.objects.create(name="城关区皋兰路街道便民服务中心", division=city)
    names = ["兰州市政务服务中心", "城关区皋兰路街道便民服务中心"]
    load_demo_categories(names)
    city_codes = list(ServiceCategory.objects.filter(hall__name=names[0]).values_list("code", "name"))
    assert city_codes == [("A", "综合受理"), ("B", "企业开办"), ("C", "社保医保"), ("D", "不动产登记"),
                          ("E", "公安户政"), ("F", "住房公积金")]
    assert list(ServiceCategory.objects.get(hall__name=names[0], code="B").departments.all()) == [market]
    street = ServiceCategory.objects.get(hall__name=names[1], code="B")
    assert (street.name, street.commitments) == ("代办服务", ["proxy"])
    audits = AuditRecord.objects.count()
    load_demo_categories(names)
    assert AuditRecord.objects.count() == audits
    assert ServiceCategory.objects.count() == 8
