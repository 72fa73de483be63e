"""``tongban generate_load``: a realistic database, consistent enough for every page and for
``verify_audit``."""

from __future__ import annotations

from collections import Counter
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.test import Client
from pytest_django.fixtures import Settings

from tests.load_fixture import generate
from tongban.accounts.models import Role, User
from tongban.audit.models import AuditRecord
from tongban.audit.sealing import audit_seal
from tongban.audit.services import audit_record
from tongban.audit.verification import verify_chain
from tongban.cases.models import Case, CaseCounter, CaseEvent, CaseMaterial, Notice, Status
from tongban.cases.numbers import daily_value
from tongban.cases.workflows.models import StepTask
from tongban.core import crypto
from tongban.ratings.models import Rating, RectificationTicket

pytestmark = pytest.mark.django_db


def test_refuses_without_the_demo_catalog(settings: Settings) -> None:
    settings.DEBUG = True
    with pytest.raises(CommandError) as exc:
        call_command("generate_load", "--cases", "10", stdout=StringIO())
    assert "load_demo" in str(exc.value)
    assert not Case.objects.exists()


def test_refuses_without_debug(settings: Settings) -> None:
    settings.DEBUG = False
    with pytest.raises(CommandError) as exc:
        call_command("generate_load", "--cases", "10", stdout=StringIO())
    assert "TONGBAN_DEBUG" in str(exc.value)


@pytest.mark.slow
def test_a_generated_province_is_consistent(client: Client) -> None:
    summary = generate(300, seed=3)
    cases = Case.objects.all()
    assert cases.count() == 300 == summary["cases"]

    # A plausible mix: mostly delivered, some in handling, refused, withdrawn; both channels.
    statuses = Counter(cases.values_list("status", flat=True))
    assert statuses[Status.DELIVERED] > 150
    assert statuses[Status.REFUSED] + statuses[Status.WITHDRAWN] > 0
    assert sum(statuses.values()) - statuses[Status.DELIVERED] > 10
    channels = Counter(cases.values_list("channel", flat=True))
    assert channels["online"] > 50 and channels["window"] > 50
    assert len(set(cases.values_list("item_id", flat=True))) > 20
    assert CaseEvent.objects.count() > 4 * 300
    assert CaseMaterial.objects.exists() and Notice.objects.exists()
    assert StepTask.objects.filter(status="done").exists()
    assert Rating.objects.exists()
    assert RectificationTicket.objects.count() == Rating.objects.filter(level__lte=2).count()

    # Every history is numbered 1..n and its case counts them.
    for sample in cases.order_by("?")[:30]:
        seqs = list(sample.events.values_list("seq", flat=True))
        assert seqs == list(range(1, len(seqs) + 1)) == list(range(1, sample.event_count + 1))
        first = sample.events.first()
        assert first is not None and first.action == "submit"

    # Numbers in the real format, unique, and the daily counters where they end.
    numbers = [str(n) for n in cases.values_list("number", flat=True)]
    assert len(set(numbers)) == 300
    assert all(len(n) == 20 and n.isdigit() for n in numbers)
    last = max(numbers)
    counter = CaseCounter.objects.get(division_code=last[:6],
                                      day=f"{last[6:10]}-{last[10:12]}-{last[12:14]}")
    assert counter.value == int(last[14:])

    # Personal data is encrypted at rest and found through the blind index.
    applicant = User.objects.filter(username__startswith="load-c").first()
    assert applicant is not None and applicant.id_number
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id_number FROM {User._meta.db_table} WHERE id = %s",
                       [applicant.pk])
        stored = cursor.fetchone()[0]
    assert stored != applicant.id_number and crypto.is_encrypted_text(stored)
    assert User.objects.filter(id_number_index=crypto.blind_index(applicant.id_number)).count() == 1

    # Every reference is valid (the database checks them now), the audit chain intact.
    connection.check_constraints()
    result = verify_chain()
    assert result.intact, [p.message for p in result.problems]
    out = StringIO()
    call_command("verify_audit", stdout=out)
    assert "完好" in out.getvalue()

    # The applicant sees their case, and only their own cases.
    owner = User.objects.get(username="citizen")
    mine = Case.objects.filter(applicant=owner).order_by("-submitted_at")
    assert mine.count() >= 5
    case = mine.first()
    assert case is not None and case.number
    other = Case.objects.exclude(applicant=owner).exclude(applicant=None).first()
    assert other is not None and other.number
    client.force_login(owner)
    page = client.get("/my/cases/")
    assert page.status_code == 200
    text = page.content.decode()
    assert str(case.number) in text and str(other.number) not in text
    detail = client.get(f"/my/cases/{case.number}/")
    assert detail.status_code == 200 and str(case.number) in detail.content.decode()
    assert client.get(f"/my/cases/{other.number}/").status_code == 404

    # And the department's officer sees it in the workbench.
    officer = User.objects.filter(role=Role.OFFICER, department_id=case.department_id).first()
    assert officer is not None
    client.force_login(officer)
    assert client.get("/workbench/").status_code == 200
    assert client.get(f"/workbench/cases/{case.number}/").status_code == 200

    # A second run adds: new cases, the numbering and the chain continue.
    generate(50, seed=4)
    assert Case.objects.count() == 350
    assert Case.objects.values("number").distinct().count() == 350
    connection.check_constraints()
    assert verify_chain().intact


@pytest.mark.slow
def test_live_work_continues_after_a_generated_province() -> None:
    """The platform goes on numbering after the generator: a day's case numbers after the
    counter the generator left (PostgreSQL draws them from a sequence created later), audit
    records after the generated chain's end (PostgreSQL's numbering sequence is moved past it)."""
    generate(120, seed=5)
    counter = CaseCounter.objects.order_by("-day", "-value").first()
    assert counter is not None and counter.value >= 1
    with transaction.atomic():
        assert daily_value(counter.division_code, counter.day) == counter.value + 1
    end = AuditRecord.objects.order_by("-seq").values_list("seq", flat=True).first()
    assert end is not None
    with transaction.atomic():
        audit_record(actor=None, action="case.note", object_type="case", object_id="x")
    audit_seal()
    newest = AuditRecord.objects.order_by("-seq").first()
    assert newest is not None and newest.seq > end and newest.hash
    result = verify_chain()
    assert result.intact, [p.message for p in result.problems]
