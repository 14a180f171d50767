"""What the ``hotline`` commands share: the settings, read once, with ``hotline --database-url`` applied."""

from __future__ import annotations

import click

from bot.errors import ConfigError
from bot.logs import setup_logging
from bot.settings import Settings


def load_settings(**overrides: object) -> Settings:
    try:
        settings = Settings(**{k: v for k, v in overrides.items() if v is not None})  # type: ignore[arg-type]
        _ = settings.secret
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc
    return settings


def settings_for(ctx: click.Context) -> Settings:
    """The settings with the root command's ``--database-url``, and logging set up from them."""
    settings = load_settings(database_url=ctx.find_root().obj.get("database_url"))
    setup_logging(settings.log_level, settings.log_format)
    return settings
