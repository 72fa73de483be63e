"""The element dictionary's writes: proposals, drafts, publication, versioned edits, retirement."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from django.utils import timezone

from tongban.accounts.models import User
from tongban.accounts.permissions import SYSTEM
from tongban.audit.models import AuditRecord
from tongban.core.errors import AccessDenied, RuleViolation
from tongban.exchange.elements import ElementData
from tongban.exchange.models import DataElement, ElementStatus
from tongban.exchange.services import elements as services

pytestmark = pytest.mark.django_db


def name_data(identifier: str = "DE09001", **changes: object) -> ElementData:
    values: dict[str, object] = {"identifier": identifier, "name": "曾用名称",
                                 "definition": "主体曾经登记过的名称", "data_type": "string",
                                 "max_length": 50}
    values.update(changes)
    return ElementData(**values)  # type: ignore[arg-type]


def test_the_bureau_drafts_and_publishes_an_element_approved_today(
        bureau_data_officer: User) -> None:
    element = services.element_save(actor=bureau_data_officer, data=name_data())
    assert element.status == ElementStatus.DRAFT
    assert element.submitter == bureau_data_officer
    published = services.element_publish(actor=bureau_data_officer, identifier="DE09001")
    assert published.status == ElementStatus.PUBLISHED
    assert published.approved_on == timezone.now().astimezone(services.SHANGHAI).date()
    assert published.submitter == bureau_data_officer
    actions = list(AuditRecord.objects.filter(object_id="DE09001").values_list("action", flat=True))
    assert actions == ["data_element.created", "data_element.published"]


def test_a_department_proposes_a_draft_but_may_not_publish(
        police_data_officer: User, bureau_data_officer: User) -> None:
    element = services.element_save(actor=police_data_officer, data=name_data())
    assert element.submitting_department_id == police_data_officer.department_id
    services.element_save(actor=police_data_officer, data=name_data(name="曾用名"))
    with pytest.raises(AccessDenied):
        services.element_publish(actor=police_data_officer, identifier="DE09001")
    services.element_publish(actor=bureau_data_officer, identifier="DE09001")
    with pytest.raises(AccessDenied):
        services.element_save(actor=police_data_officer, data=name_data(name="别名"))


def test_an_invalid_definition_is_refused_naming_the_field(bureau_data_officer: User) -> None:
    with pytest.raises(RuleViolation) as caught:
        services.element_save(actor=bureau_data_officer,
                              data=name_data(domain_kind="code_list", code_list="GB/T 0000"))
    assert [p.field for p in caught.value.problems] == ["code_list"]
    assert not DataElement.objects.exists()


def test_editing_a_published_element_is_its_next_version_still_published(
        bureau_data_officer: User) -> None:
    services.element_save(actor=bureau_data_officer, data=name_data())
    services.element_publish(actor=bureau_data_officer, identifier="DE09001")
    edited = services.element_save(actor=bureau_data_officer, data=name_data(max_length=100))
    assert (edited.version, edited.status) == (2, ElementStatus.PUBLISHED)
    record = AuditRecord.objects.get(action="data_element.edited")
    assert record.detail["changes"] == {"max_length": {"before": 50, "after": 100}}
    # The same definition again changes nothing.
    assert services.element_save(actor=bureau_data_officer,
                                 data=name_data(max_length=100)).version == 2


def test_retire_needs_a_reason_and_no_binding(bureau_data_officer: User) -> None:
    services.element_save(actor=bureau_data_officer, data=name_data())
    services.element_publish(actor=bureau_data_officer, identifier="DE09001")
    with pytest.raises(RuleViolation) as caught:
        services.element_retire(actor=bureau_data_officer, identifier="DE09001", reason=" ")
    assert caught.value.problems[0].field == "reason"
    retired = services.element_retire(actor=bureau_data_officer, identifier="DE09001",
                                      reason="与DE00001重复")
    assert retired.status == ElementStatus.RETIRED
    with pytest.raises(RuleViolation):
        services.element_save(actor=bureau_data_officer, data=name_data(name="新名称"))


def test_the_demo_dictionary_loads_whole_and_published(db: None) -> None:
    from tongban.exchange.codelists import load_bundled_code_lists

    load_bundled_code_lists(actor=SYSTEM)
    path = Path(services.__file__).resolve().parents[1] / "data" / "demo-elements.csv"
    rows = services.elements_from_csv(path)
    assert len(rows) >= 150
    assert services.elements_load(actor=SYSTEM, elements=rows) == len(rows)
    assert DataElement.objects.filter(status=ElementStatus.PUBLISHED).count() == len(rows)
    shared = {e.identifier: e for e in DataElement.objects.filter(
        identifier__in=["DE00002", "DE00003", "DE00023", "DE00024"]).select_related("code_list")}
    assert shared["DE00002"].checker == "id_number" and shared["DE00002"].personal
    assert shared["DE00003"].code_list is not None
    assert shared["DE00003"].code_list.code == "GB/T 2261.1"
    assert (shared["DE00023"].data_type, shared["DE00023"].unit) == ("decimal", "万元")
    assert shared["DE00024"].name == "住所（经营场所）"
    assert shared["DE00024"].approved_on is not None
    assert shared["DE00024"].approved_on <= dt.date.today() + dt.timedelta(days=1)
    # Loading again changes nothing.
    assert services.elements_load(actor=SYSTEM, elements=rows) == 0
    # Exported, the dictionary is the file it was loaded from.
    exported = services.elements_csv(DataElement.objects.select_related("code_list"))
    assert exported == path.read_text("utf-8")
