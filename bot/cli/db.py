"""``hotline db upgrade``: create or migrate the database."""

from __future__ import annotations

import click

from bot.cli.common import settings_for


@click.group()
def db() -> None:
    """Database migrations."""


@db.command("upgrade")
@click.option("--revision", default="head")
@click.pass_context
def db_upgrade(ctx: click.Context, revision: str) -> None:
    """Create or migrate the database to the latest schema."""
    from bot.store.migrate import upgrade

    settings = settings_for(ctx)
    upgrade(settings.database_url, revision)
    click.echo("database is up to date")
