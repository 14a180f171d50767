"""Run the Alembic migrations from Python (``hotline db upgrade`` and the tests)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from alembic import command
from alembic.config import Config

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    """Bring the database to ``revision`` (creating the SQLite file's folder if needed)."""
    if database_url.startswith("sqlite") and ":///" in database_url:
        path = database_url.split(":///", 1)[1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
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
    _in_own_loop(lambda: command.downgrade(alembic_config(database_url), revision))
