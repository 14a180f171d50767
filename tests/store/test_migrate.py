"""``hotline serve`` upgrades the database at every start: when it is at head already, that is one query,
without importing alembic; otherwise the migrations run as before."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from bot.settings import ROOT
from bot.store.migrate import downgrade, head_revision, is_current, upgrade


def test_the_head_is_the_revision_no_migration_comes_down_from(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'h.db'}"
    assert head_revision() is not None
    assert not is_current(url), "an empty database is not at head"
    upgrade(url)
    assert is_current(url)
    downgrade(url, "0001")
    assert not is_current(url), "an older revision is not at head"
    upgrade(url)
    assert is_current(url), "and the upgrade still runs the migrations then"


def test_an_upgrade_of_a_database_at_head_does_not_import_alembic(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'h.db'}"
    upgrade(url)
    probe = (
        "import sys\n"
        "from bot.store.migrate import upgrade\n"
        f"upgrade({url!r})\n"
        "print('alembic' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=120, check=True
    )
    assert done.stdout.strip() == "False"
