"""A provider's export loaded on a schedule: imported when it changed, skipped when not,
refused whole when faulty."""

from __future__ import annotations

from pathlib import Path

import pytest

from tongban.exchange.models import RecordBatch, ResourceRecord
from tongban.exchange.tasks import import_records_from

pytestmark = pytest.mark.django_db


def test_scheduled_import_loads_a_changed_export_once_and_refuses_a_bad_one(
        tmp_path: Path, people_resource: object) -> None:
    export = tmp_path / "huji.csv"
    export.write_text("id_number,name,address\n620102199001011233,张明,兰州市城关区皋兰路1号\n",
                      encoding="utf-8")
    assert import_records_from.call("LZ-GA-0001", str(export)) == "imported"
    assert import_records_from.call("LZ-GA-0001", str(export)) == "unchanged"
    assert RecordBatch.objects.count() == 1
    export.write_text("id_number,name,address\n620102199001011234,张明,兰州市城关区皋兰路1号\n",
                      encoding="utf-8")
    assert import_records_from.call("LZ-GA-0001", str(export)) == "refused"
    assert RecordBatch.objects.count() == 1
    assert ResourceRecord.objects.get().values["name"] == "张明"
    assert import_records_from.call("LZ-GA-0001", str(tmp_path / "none.csv")) == "missing"
