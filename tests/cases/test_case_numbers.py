"""Case numbers: division code, the day in Beijing time, a six-digit daily sequence — drawn on
PostgreSQL from a sequence per division and day that nobody holds to commit (cases.numbers)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection, transaction

from tongban.cases import numbers

DAY = dt.date(2031, 5, 6)


def draw(code: str = "620100", day: dt.date = DAY) -> int:
    with transaction.atomic():
        return numbers.daily_value(code, day)


@pytest.mark.django_db
def test_each_division_and_day_counts_from_one() -> None:
    assert [draw(), draw(), draw()] == [1, 2, 3]
    assert draw("620102") == 1
    assert draw(day=DAY + dt.timedelta(days=1)) == 1
    assert draw() == 4


@pytest.mark.django_db
def test_a_rolled_back_submission_leaves_its_number_unused_on_postgresql() -> None:
    assert draw() == 1
    with pytest.raises(RuntimeError), transaction.atomic():
        numbers.daily_value("620100", DAY)
        raise RuntimeError("the submission failed")
    # PostgreSQL: a gap (the sequence is not rolled back); SQLite: the counter row is.
    assert draw() == (3 if connection.vendor == "postgresql" else 2)


@pytest.mark.django_db
def test_not_a_division_code_is_refused() -> None:
    with pytest.raises(ValueError, match="not a division code"):
        draw("62'01")


@pytest.mark.skipif("connection.vendor != 'postgresql'", reason="sequences: PostgreSQL only")
@pytest.mark.django_db
def test_the_sequences_of_days_past_are_dropped() -> None:
    for day in (DAY - dt.timedelta(days=3), DAY - dt.timedelta(days=1), DAY):
        draw(day=day)
    assert numbers.drop_old_sequences(DAY) == 1
    with connection.cursor() as cursor:
        cursor.execute("SELECT relname FROM pg_class WHERE relkind = 'S' AND relname LIKE %s "
                       "ORDER BY relname", [f"{numbers.PREFIX}620100_2031%"])
        assert [r[0] for r in cursor.fetchall()] == ["case_number_620100_20310505",
                                                     "case_number_620100_20310506"]


@pytest.mark.django_db
def test_a_sequence_dropped_behind_the_process_is_made_again(monkeypatch: pytest.MonkeyPatch) -> None:
    """A node that drew from a day's sequence before a backup was restored (or the database
    recreated) still numbers that day's submissions instead of failing them all."""
    day = DAY + dt.timedelta(days=30)
    monkeypatch.setattr(numbers, "_known", {f"{numbers.PREFIX}620100_{day:%Y%m%d}"})
    assert draw(day=day) == 1
    assert draw(day=day) == 2
