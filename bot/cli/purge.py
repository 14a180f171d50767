"""``hotline purge``: delete now what is past the retention period (every dispatching process does it hourly)."""

from __future__ import annotations

import asyncio

import click

from bot.cli.common import settings_for
from bot.settings import Settings


@click.command()
@click.pass_context
def purge(ctx: click.Context) -> None:
    """Delete transcripts and idle conversations older than HOTLINE_RETENTION_DAYS."""
    settings = settings_for(ctx)
    counts = asyncio.run(run_purge(settings))
    click.echo(", ".join(f"{name}: {count}" for name, count in counts.items()))


async def run_purge(settings: Settings) -> dict[str, int]:
    """Purge with the services of a process that serves no channel."""
    from bot.runtime import build_services

    services = build_services(settings, channel_factories=[])
    try:
        return await services.purge()
    finally:
        await services.close()
