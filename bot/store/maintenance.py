"""Housekeeping from the command line: purging what is past the retention period."""

from __future__ import annotations

from bot.runtime import build_services
from bot.settings import Settings


async def run_purge(settings: Settings) -> dict[str, int]:
    services = build_services(settings, channel_factories=[])
    try:
        return await services.purge()
    finally:
        await services.close()
