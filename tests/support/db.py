"""Database helpers shared by the tests: run the outbox until it is idle, count rows, check that a refused
request wrote nothing (:func:`assert_nothing_written`), and dump the whole database as text to search it
for what must never be kept (:func:`dump_database`). Use these rather than a copy in a test folder."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import func, select, text

from bot.runtime import Services
from bot.store.models import Base


async def drain(services: Services) -> int:
    """Run the outbox until nothing more is due now; how many events finished."""
    total = 0
    while done := await services.dispatcher.run_once():
        total += done
    return total


async def count(services: Services, model: type[Any], *where: Any) -> int:
    """How many rows of ``model`` match ``where``."""
    async with services.sessionmaker() as session:
        return int(await session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


async def row_counts(services: Services) -> dict[str, int]:
    """How many rows every table of the models holds."""
    async with services.sessionmaker() as session:
        return {
            table.name: int(await session.scalar(select(func.count()).select_from(table)) or 0)
            for table in Base.metadata.sorted_tables
        }


async def assert_nothing_written(services: Services, before: dict[str, int] | None = None) -> None:
    """Fail, naming the tables, if any table holds other rows than ``before`` (:func:`row_counts` taken
    before the request), or than none at all: what every refused request must leave."""
    after = await row_counts(services)
    expected = before if before is not None else dict.fromkeys(after, 0)
    changed = {
        name: (expected.get(name, 0), rows) for name, rows in after.items() if rows != expected.get(name, 0)
    }
    assert not changed, f"rows were written (table: rows before, after): {changed}"


async def dump_database(services: Services, *, files: bool = False) -> str:
    """Every value of every row of every table, as text.

    With ``files`` on SQLite, the raw bytes of the database files instead (the write-ahead log included):
    what a copied disk would show, deleted rows and free pages too. The engine's pool is closed first so
    that everything is in the files; the next query opens it again.
    """
    url = services.settings.database_url
    if files and url.startswith("sqlite"):
        await services.db.dispose()
        path = Path(url.split("///", 1)[1])
        found = [p for p in sorted(path.parent.iterdir()) if p.name.startswith(path.name)]
        return "\n".join(p.read_bytes().decode("latin-1") for p in found)
    if services.settings.is_sqlite:
        query = "SELECT name FROM sqlite_master WHERE type='table'"
    else:
        query = "SELECT tablename FROM pg_tables WHERE schemaname='public'"
    parts: list[str] = []
    async with services.sessionmaker() as session:
        tables = [row[0] for row in await session.execute(text(query))]
        for table in tables:
            rows = await session.execute(text(f'SELECT * FROM "{table}"'))
            parts.extend(repr(tuple(row)) for row in rows)
    return "\n".join(parts)
