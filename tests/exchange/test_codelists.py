"""Code lists are saved whole, versioned and audited; the standard lists ship with the platform."""

from __future__ import annotations

import pytest

from tongban.accounts.models import User
from tongban.audit.models import AuditRecord
from tongban.core.errors import AccessDenied, RuleViolation
from tongban.exchange import codelists, elements
from tongban.exchange.codelists import Entry
from tongban.exchange.models import CodeList, DataElement, DataType, DomainKind, ElementStatus

pytestmark = pytest.mark.django_db


def test_bundled_lists_load_once_and_a_second_load_changes_nothing(
        bureau_data_officer: User) -> None:
    loaded = codelists.load_bundled_code_lists(actor=bureau_data_officer)
    assert {c.code for c in loaded} == {"GB/T 2260", "GB/T 2261.1", "GB/T 2261.2", "GB/T 4658",
                                        "GB/T 3304", "GA/T 517"}
    sex = CodeList.objects.get(code="GB/T 2261.1")
    assert list(sex.entries.values_list("value", "label")) == [
        ("0", "未知的性别"), ("1", "男性"), ("2", "女性"), ("9", "未说明的性别")]
    assert CodeList.objects.get(code="GB/T 2260").entries.get(value="620102").parent_value == "620100"
    records = AuditRecord.objects.filter(action="code_list.save").count()
    codelists.load_bundled_code_lists(actor=bureau_data_officer)
    assert CodeList.objects.get(code="GB/T 2261.1").version == 1
    assert AuditRecord.objects.filter(action="code_list.save").count() == records


def test_a_changed_list_bumps_its_version_and_the_validator_reads_it_again(
        bureau_data_officer: User) -> None:
    codelists.code_list_save(actor=bureau_data_officer, code="TEST", name="测试",
                             entries=[Entry("A", "甲")])
    DataElement.objects.create(identifier="DE09001", name="测试代码", definition="测试",
                               data_type=DataType.STRING, domain_kind=DomainKind.CODE_LIST,
                               code_list=CodeList.objects.get(code="TEST"),
                               status=ElementStatus.PUBLISHED)
    rule = elements.rules(["DE09001"])["DE09001"]
    assert elements.clean(rule, "B")[0] is None
    codelists.code_list_save(actor=bureau_data_officer, code="TEST", name="测试",
                             entries=[Entry("A", "甲"), Entry("B", "乙")])
    assert CodeList.objects.get(code="TEST").version == 2
    assert elements.clean(elements.rules(["DE09001"])["DE09001"], "B") == ("B", None)


def test_bad_entries_are_refused_whole_with_their_rows(bureau_data_officer: User) -> None:
    with pytest.raises(RuleViolation) as caught:
        codelists.code_list_save(actor=bureau_data_officer, code="TEST", name="测试", entries=[
            Entry("A", "甲"), Entry("A", "乙"), Entry("C", "", parent_value="Z")])
    assert [(p.field, str(p.message)) for p in caught.value.problems] == [
        ("entries.2.value", "第2项：代码“A”重复"),
        ("entries.3.label", "第3项：名称须填写（至多200个字）"),
        ("entries.3.parent_value", "第3项：上级代码“Z”不在本代码集中"),
    ]
    assert not CodeList.objects.filter(code="TEST").exists()


def test_only_the_data_bureau_keeps_code_lists(police_data_officer: User) -> None:
    with pytest.raises(AccessDenied):
        codelists.code_list_save(actor=police_data_officer, code="TEST", name="测试",
                                 entries=[Entry("A", "甲")])
    assert not CodeList.objects.exists()
