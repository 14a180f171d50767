"""Periodic housekeeping: purging what is past the retention period."""

from __future__ import annotations

from bot.clock import SystemClock
from bot.settings import Settings
from bot.store.conversations import purge
from bot.store.db import make_engine, make_sessionmaker


async def run_purge(settings: Settings) -> dict[str, int]:
    engine = make_engine(settings.database_url)
    try:
        async with make_sessionmaker(engine)() as session, session.begin():
            return await purge(session, now=SystemClock().now(), retention_days=settings.retention_days)
    finally:
        await engine.dispose()
