"""A new, empty database for one test: an SQLite file, or a PostgreSQL database created for it and dropped
after (the backup and migration tests need a database nothing else has touched)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import PG_ADMIN, _pg_execute, _pg_reachable

BACKENDS = ["sqlite", "postgresql"]


def migration_chain() -> list[str]:
    """Every revision, from the first to the head, as Alembic orders them (never a list kept by hand)."""
    from alembic.script import ScriptDirectory

    from bot.store.migrate import alembic_config

    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    return [revision.revision for revision in reversed(list(script.walk_revisions()))]


@contextlib.contextmanager
def fresh_database(backend: str, folder: Path) -> Iterator[str]:
    """The URL of a new empty database (call from outside a running event loop)."""
    if backend == "sqlite":
        yield f"sqlite+aiosqlite:///{folder / f'fresh-{uuid.uuid4().hex[:8]}.db'}"
        return
    if not _pg_reachable():
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is not reachable at {PG_ADMIN}; CI must test on PostgreSQL")
        pytest.skip("PostgreSQL is not reachable here")
    name = f"hotline_fresh_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    asyncio.run(_pg_execute(f'CREATE DATABASE "{name}"'))
    try:
        yield f"{PG_ADMIN.rsplit('/', 1)[0]}/{name}"
    finally:
        asyncio.run(_pg_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
