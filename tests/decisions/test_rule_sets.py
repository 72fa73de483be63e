"""Rule sets: bad input refused naming where, failing test cases refuse publishing, the file
round trip, every change audited; the figures per item."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.cases.conftest import SAME_DAY, item
from tests.decisions.conftest import TESTS, data
from tongban.accounts.models import User
from tongban.audit.models import AuditRecord
from tongban.core.errors import AccessDenied, RuleViolation
from tongban.decisions.models import RuleSet, RuleSetStatus
from tongban.decisions.services.rule_sets import (
    parse_file,
    rule_set_export,
    rule_set_publish,
    rule_set_save,
)

pytestmark = pytest.mark.django_db


def test_a_rule_set_whose_test_case_fails_cannot_be_published(admin: User) -> None:
    wrong = [*TESTS, {"name": "座机也应通过", "input": {"form": {"contact_phone": "0931-1"}},
                      "expect": {"approve": True}}]
    draft = rule_set_save(actor=admin, item=item(SAME_DAY), data=data(tests=wrong))
    with pytest.raises(RuleViolation) as refused:
        rule_set_publish(actor=admin, rule_set=draft)
    [problem] = refused.value.problems
    assert problem.field == "tests[2]" and "座机也应通过" in str(problem.message)
    assert RuleSet.objects.get(pk=draft.pk).status == RuleSetStatus.DRAFT
    assert not AuditRecord.objects.filter(action="rule_set.published").exists()


def test_a_malformed_graph_is_refused_naming_where_and_nothing_is_saved(admin: User) -> None:
    jdm: dict[str, Any] = data().jdm
    jdm["nodes"][1]["content"]["expressions"][0]["value"] = "form.contact_phone +* 1"
    with pytest.raises(RuleViolation) as refused:
        rule_set_save(actor=admin, item=item(SAME_DAY), data=data(jdm=jdm, tests=[]))
    fields = [p.field for p in refused.value.problems]
    assert fields == ["jdm.nodes[1].content.expressions[0].value", "tests"]
    with pytest.raises(RuleViolation) as bad_json:
        parse_file('{"nodes": [\n  1,,]}')
    assert "第2行" in str(bad_json.value.problems[0].message)
    assert not RuleSet.objects.exists()


def test_the_file_round_trip_and_the_audit(admin: User, people: dict[str, User]) -> None:
    with pytest.raises(AccessDenied):
        rule_set_save(actor=people["officer"], item=item(SAME_DAY), data=data())
    first = rule_set_save(actor=admin, item=item(SAME_DAY), data=data())
    rule_set_publish(actor=admin, rule_set=first)
    text = json.dumps(rule_set_export(RuleSet.objects.get(pk=first.pk)), ensure_ascii=False)
    again = rule_set_save(actor=admin, item=item(SAME_DAY), data=parse_file(text))
    assert again.version == 2 and again.jdm == first.jdm and again.tests == first.tests
    assert rule_set_save(actor=admin, item=item(SAME_DAY), data=parse_file(text)) == again
    rule_set_publish(actor=admin, rule_set=again)
    assert RuleSet.objects.get(pk=first.pk).status == RuleSetStatus.RETIRED
    assert list(AuditRecord.objects.filter(object_type="decisions.RuleSet").order_by("seq")
                .values_list("action", flat=True)) == [
        "rule_set.created", "rule_set.published", "rule_set.created", "rule_set.published"]
