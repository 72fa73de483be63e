"""A generated province in the test database: ``generate(cases, seed=1)``.

Loads the demo city (``tongban load_demo``) when the database has no catalog yet, then adds
``cases`` generated cases with ``tongban.demo.load.generate`` — with the database's own checks
on (foreign keys checked per row), unlike the command's bulk session. Call it inside a test that
has the database (``db`` fixture or ``django_db_blocker.unblock()``)::

    from tests.load_fixture import generate

    def test_inbox_at_scale(db):
        generate(10_000)
        ...
"""

from __future__ import annotations

from io import StringIO
from typing import Any

from django.conf import settings
from django.core.management import call_command

from tongban.catalog.models import Item


def load_demo() -> None:
    """The demo catalog, halls and accounts (once per database)."""
    if Item.objects.exists():
        return
    debug = settings.DEBUG
    settings.DEBUG = True  # load_demo refuses otherwise (the shared demo password)
    try:
        call_command("load_demo", stdout=StringIO())
    finally:
        settings.DEBUG = debug


def generate(cases: int, seed: int = 1) -> dict[str, Any]:
    """The demo city plus ``cases`` generated cases; returns the generator's summary."""
    from tongban.demo.load import generate as generate_load

    load_demo()
    return generate_load(cases, seed=seed, bulk=False)
