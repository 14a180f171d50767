"""``hotline serve`` upgrades the database at every start: when it is at head already, that is one query,
without importing alembic; otherwise the migrations run as before."""

from __future__ import annotations

import itertools
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

from bot.settings import ROOT
from bot.store.backup import table_counts
from bot.store.db import run_on_connection
from bot.store.migrate import alembic_config, downgrade, head_revision, is_current, upgrade
from bot.store.models import Base
from tests.support.databases import BACKENDS, fresh_database, migration_chain


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


# -- the whole chain, from every revision, on both databases ------------------------------------------


CHAIN = migration_chain()


def _differences(url: str) -> list[Any]:
    """What Alembic's autogenerate would change to make the database match the models (nothing, if the
    migrations and the models agree)."""
    options = {"compare_type": True}
    return list(
        run_on_connection(
            url, lambda c: compare_metadata(MigrationContext.configure(c, opts=options), Base.metadata)
        )
    )


def _sample(column: Any) -> Any:
    """A plausible value of the column's type, for a row that only has to exist."""
    kind = column.type
    if isinstance(kind, sa.Boolean):
        return False
    if isinstance(kind, sa.Integer):
        return 1  # also the id of the one row of the table a foreign key points to
    if isinstance(kind, sa.DateTime):
        return datetime(2026, 1, 1, tzinfo=UTC)
    if isinstance(kind, sa.Date):
        return date(2026, 1, 1)
    if isinstance(kind, sa.Float | sa.Numeric):
        return 0.0
    if isinstance(kind, sa.JSON):
        return {}
    if isinstance(kind, sa.LargeBinary):
        return b"x"
    return "x"


def _fill_every_table(connection: Connection) -> dict[str, int]:
    """One row in every table of the schema as it is at this revision (only the columns that need a
    value), so that a later migration that adds a required column or rebuilds a table meets data."""
    metadata = sa.MetaData()
    metadata.reflect(connection)
    counts: dict[str, int] = {}
    # parents first; a nullable reference (the cycle conversations <-> escalations) is left empty
    for table in sa.schema.sort_tables(metadata.tables.values(), skip_fn=lambda key: key.parent.nullable):
        if table.name == "alembic_version":
            continue
        row = {
            column.name: _sample(column)
            for column in table.columns
            if not column.nullable
            and column.server_default is None
            and not (
                column.primary_key
                and column.autoincrement is not False
                and isinstance(column.type, sa.Integer)
                and len(table.primary_key.columns) == 1
            )
        }
        connection.execute(table.insert().values(**row))
        counts[table.name] = 1
    return counts


def _row_counts(url: str) -> dict[str, int]:
    return {name: rows for name, rows in table_counts(url).items() if name != "alembic_version"}


def test_the_revisions_form_one_line_ending_at_the_head() -> None:
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    assert script.get_heads() == [head_revision()]
    for earlier, later in itertools.pairwise(CHAIN):
        assert script.get_revision(later).down_revision == earlier
    assert len(CHAIN) >= 8


@pytest.mark.parametrize("revision", CHAIN)
@pytest.mark.parametrize("backend", BACKENDS)
def test_a_database_at_any_revision_upgrades_to_the_models(
    backend: str, revision: str, tmp_path: Path
) -> None:
    with fresh_database(backend, tmp_path) as url:
        upgrade(url, revision)
        filled = run_on_connection(url, _fill_every_table)
        assert filled, "the schema at this revision has tables"
        upgrade(url)
        assert is_current(url)
        assert _differences(url) == [], f"from {revision}, the upgraded schema is not the models'"
        counts = _row_counts(url)
        assert {name: counts[name] for name in filled} == filled, "an upgrade lost rows"


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_head_downgrades_to_nothing_and_upgrades_again(backend: str, tmp_path: Path) -> None:
    with fresh_database(backend, tmp_path) as url:
        upgrade(url)
        assert _differences(url) == []
        downgrade(url, "base")
        assert _row_counts(url) == {}, "every table is gone at the base"
        upgrade(url)
        assert is_current(url)
        assert _differences(url) == []
