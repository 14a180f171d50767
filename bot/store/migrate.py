"""Run the Alembic migrations from Python (``hotline db upgrade`` and the tests).

Alembic (with mako and pygments) takes most of a second to import, and ``hotline serve`` upgrades the
database at every start; so an upgrade to head first asks the database, without alembic, whether it is
at head already (the one revision no migration file names as its ``down_revision``).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import text

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
_REVISION = re.compile(r'^(down_revision|revision)\b[^=]*=\s*(?:"([^"]+)"|None)', re.MULTILINE)


def head_revision() -> str | None:
    """The single head of the migration files (None if there are several or none)."""
    revisions: set[str] = set()
    downs: set[str] = set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        for name, value in _REVISION.findall(path.read_text(encoding="utf-8")):
            if value:
                (revisions if name == "revision" else downs).add(value)
    heads = revisions - downs
    return next(iter(heads)) if len(heads) == 1 else None


def is_current(database_url: str) -> bool:
    """Whether the database is at the head revision (False if it cannot tell: no table, no database)."""
    from bot.store.db import make_engine

    head = head_revision()
    if head is None:
        return False

    async def versions() -> list[str]:
        engine = make_engine(database_url)
        try:
            async with engine.connect() as connection:
                rows = await connection.execute(text("SELECT version_num FROM alembic_version"))
                return [str(row[0]) for row in rows]
        finally:
            await engine.dispose()

    try:
        found: list[str] = []
        _in_own_loop(lambda: found.extend(asyncio.run(versions())))
    except Exception:
        return False
    return found == [head]


def alembic_config(database_url: str) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    """Bring the database to ``revision`` (an SQLite file and its folder are created private, see
    :func:`bot.store.db.make_engine`)."""
    if revision == "head" and is_current(database_url):
        return
    from alembic import command

    _in_own_loop(lambda: command.upgrade(alembic_config(database_url), revision))


def _in_own_loop(run: Callable[[], None]) -> None:
    """Alembic's env.py starts an event loop; from inside a running loop, do that in a thread."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        run()
        return
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(run).result()


def downgrade(database_url: str, revision: str) -> None:
    from alembic import command

    _in_own_loop(lambda: command.downgrade(alembic_config(database_url), revision))
