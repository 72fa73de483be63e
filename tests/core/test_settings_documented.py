"""Every TONGBAN_* variable the code reads is documented in docs/settings.md."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_every_setting_is_documented() -> None:
    read = set()
    for path in (REPO / "src" / "tongban").rglob("*.py"):
        read |= set(re.findall(r"""["'](TONGBAN_[A-Z0-9_]+)["']""", path.read_text(encoding="utf-8")))
    documented = set(re.findall(r"`(TONGBAN_[A-Z0-9_]+)`", (REPO / "docs" / "settings.md").read_text(
        encoding="utf-8")))
    assert {"TONGBAN_DATABASE_URL", "TONGBAN_SECRET_KEY", "TONGBAN_DEBUG"} <= read
    assert sorted(read - documented) == []
