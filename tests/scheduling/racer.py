"""Run as a separate process by ``test_race.py``: fire schedules at agreed moments.

Usage: ``python racer.py START_EPOCH ROUNDS``. Waits until START_EPOCH (so that every racer
starts together), then for each round fires the schedules due one minute later than the last
and prints the names it fired, one JSON list per line.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
import time

import django

BASE = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def main() -> None:
    start, rounds = float(sys.argv[1]), int(sys.argv[2])
    django.setup()
    from tongban.scheduling.services import schedules_fire_due

    for round_ in range(rounds):
        # Every racer begins each round at the same wall-clock moment.
        time.sleep(max(0.0, start + round_ * 0.5 - time.time()))
        now = BASE + dt.timedelta(seconds=60 * round_ + 1)
        print(json.dumps(schedules_fire_due(now=now)), flush=True)


if __name__ == "__main__":
    main()
