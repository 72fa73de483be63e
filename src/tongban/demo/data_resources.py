"""The demo city's data resource catalog, loaded through the resource workbook importer.

``demo/data/demo-resources.xlsx`` (written by ``scripts/make_demo_resources.py``) holds the demo
dictionary's elements and 120 resources of the demo departments; the import publishes them as
the data bureau would. Two 数源 conflicts are then left for the bureau: two departments each
submit a resource claiming the same element as its source (婚姻状况代码: 公安局 and 民政局;
学历代码: 教育局 and 人社局), so both wait in the review queue and on the conflicts page.
"""

from __future__ import annotations

from pathlib import Path

from tongban.accounts.permissions import SYSTEM
from tongban.exchange.codelists import load_bundled_code_lists
from tongban.exchange.models import CodeList, Resource
from tongban.exchange.services.resources import (
    ItemData,
    ResourceData,
    resource_save_draft,
    resource_version_submit,
)
from tongban.exchange.workbook import resources_import_workbook
from tongban.organizations.models import Department

DEMO_RESOURCES = Path(__file__).resolve().parent / "data" / "demo-resources.xlsx"

CONFLICTS = [
    ("LZ-GA-0010", "人口婚姻状况信息", "兰州市公安局", "101010", "DE00007", "marital_status",
     "婚姻状况代码", "户籍登记项目中的婚姻状况"),
    ("LZ-MZ-0010", "婚姻状况证明信息", "兰州市民政局", "203010", "DE00007", "marital_status",
     "婚姻状况代码", "依婚姻登记档案出具的婚姻状况"),
    ("LZ-JY-0010", "学历信息", "兰州市教育局", "204010", "DE00008", "education", "学历代码",
     "学历教育的最高学历"),
    ("LZ-RS-0010", "就业人员学历信息", "兰州市人力资源和社会保障局", "201010", "DE00008",
     "education", "学历代码", "就业登记时登记的学历"),
]


def load_data_resources() -> None:
    if not CodeList.objects.exists():
        load_bundled_code_lists(actor=SYSTEM)
    resources_import_workbook(actor=SYSTEM, source=DEMO_RESOURCES, name=DEMO_RESOURCES.name)
    for code, name, provider, category, element, key, item_name, summary in CONFLICTS:
        department = Department.objects.filter(name=provider).first()
        if department is None or Resource.objects.filter(code=code).exists():
            continue  # loaded before: the demo loads twice without a change
        klass = {"1": "basic", "2": "theme", "3": "department"}[category[0]]
        data = ResourceData(
            code=code, name=name, provider=department, classification=klass,
            category_code=category, summary=summary, format="数据库表",
            share_type="conditional", share_condition="用于依法履行职责和办理政务服务事项",
            share_method="table", update_cycle="daily",
            items=[ItemData("id_number", "公民身份号码", "DE00002", is_subject=True),
                   ItemData("name", "姓名", "DE00001"),
                   ItemData(key, item_name, element, is_source=True)])
        version = resource_save_draft(actor=SYSTEM, data=data)
        resource_version_submit(actor=SYSTEM, version=version)
