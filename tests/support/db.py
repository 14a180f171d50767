"""Database helpers shared by the tests: run the outbox until it is idle, count rows."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from bot.runtime import Services


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
