"""``hotline telegram ...``: run by long polling, register the webhook, look at it.

aiogram is imported inside the commands: every ``hotline`` command loads this module to list it, and
importing aiogram takes seconds.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TypeVar
from urllib.parse import urlsplit

import click

from bot.cli.common import settings_for
from bot.errors import ConfigError, ContentErrors
from bot.settings import Settings

if TYPE_CHECKING:
    from aiogram import Bot

T = TypeVar("T")
WEBHOOK_PORTS = (443, 80, 88, 8443)  # the only ports Telegram's own servers deliver to


def _settings(ctx: click.Context) -> Settings:
    settings = settings_for(ctx)
    if settings.telegram_token is None:
        raise click.ClickException("HOTLINE_TELEGRAM_TOKEN is not set: create a bot with @BotFather first.")
    return settings


def _with_bot(settings: Settings, work: Callable[[Bot], Awaitable[T]]) -> T:
    """Run ``work`` with a bot built from settings, closing it after; errors become clear messages."""
    from aiogram.exceptions import TelegramAPIError

    from bot.channels.telegram.client import build_bot, describe

    async def run() -> T:
        bot = build_bot(settings)
        try:
            return await work(bot)
        finally:
            await bot.session.close()

    try:
        return asyncio.run(run())
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    except TelegramAPIError as exc:
        raise click.ClickException(f"Telegram refused: {describe(exc)}") from None


def check_webhook_url(url: str, *, own_server: bool) -> str:
    """The webhook URL, checked against what Telegram accepts (HTTPS on 443, 80, 88 or 8443)."""
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise click.BadParameter("give a full URL, e.g. https://hotline.example.org/telegram/webhook")
    if own_server:
        return url  # a self-hosted Bot API server accepts any scheme and port
    if parts.scheme != "https":
        raise click.BadParameter("Telegram delivers webhooks over HTTPS only")
    if (parts.port or 443) not in WEBHOOK_PORTS:
        raise click.BadParameter(
            f"Telegram delivers webhooks to ports {', '.join(map(str, WEBHOOK_PORTS))} only"
        )
    return url


@click.group("telegram")
def telegram_group() -> None:
    """The Telegram bot: long polling, or registering the webhook."""


@telegram_group.command("poll")
@click.option("--migrate/--no-migrate", default=True, help="Bring the database up to date first.")
@click.pass_context
def poll(ctx: click.Context, migrate: bool) -> None:
    """Serve Telegram by long polling (no public URL needed); deletes the webhook first. Ctrl-C stops."""
    from bot.channels.telegram.channel import TelegramChannel
    from bot.channels.telegram.inbound import NAME
    from bot.channels.telegram.polling import PollingStopped, run_polling
    from bot.runtime import build_services
    from bot.store.migrate import upgrade

    settings = _settings(ctx)
    if migrate:
        upgrade(settings.database_url)

    async def run() -> None:
        services = build_services(settings)
        channel = services.channels[NAME]
        await services.start(dispatcher=True)
        try:
            assert isinstance(channel, TelegramChannel)
            await run_polling(channel)
        finally:
            await services.close()

    click.echo("Polling Telegram for updates (Ctrl-C to stop).")
    try:
        asyncio.run(run())
    except (ConfigError, PollingStopped) as exc:
        raise click.ClickException(str(exc)) from None
    except ContentErrors as exc:
        raise click.ClickException(f"the content has mistakes; run `hotline check`:\n{exc}") from None
    except KeyboardInterrupt:
        click.echo("Stopped.")


@telegram_group.command("set-webhook")
@click.option(
    "--url", default=None, help="The public webhook URL (default: HOTLINE_PUBLIC_URL + /telegram/webhook)."
)
@click.option("--drop-pending", is_flag=True, help="Discard updates Telegram is still holding.")
@click.pass_context
def set_webhook(ctx: click.Context, url: str | None, drop_pending: bool) -> None:
    """Register the webhook with Telegram, with HOTLINE_TELEGRAM_WEBHOOK_SECRET as its secret token."""
    from bot.channels.telegram.client import webhook_secret
    from bot.channels.telegram.polling import ALLOWED_UPDATES
    from bot.channels.telegram.webhook import PATH

    settings = _settings(ctx)
    try:
        secret = webhook_secret(settings)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    if secret is None:
        raise click.ClickException(
            "HOTLINE_TELEGRAM_WEBHOOK_SECRET is not set. Generate one with "
            "`python -c 'import secrets; print(secrets.token_urlsafe(32))'` and set it for the server too."
        )
    url = check_webhook_url(
        url or settings.public_url.rstrip("/") + PATH, own_server=settings.telegram_api_url is not None
    )

    async def register(bot: Bot) -> bool:
        return await bot.set_webhook(
            url=url, secret_token=secret, allowed_updates=ALLOWED_UPDATES, drop_pending_updates=drop_pending
        )

    _with_bot(settings, register)
    click.echo(f"Webhook set: {url}")


@telegram_group.command("webhook-info")
@click.pass_context
def webhook_info(ctx: click.Context) -> None:
    """Show where Telegram delivers updates, how many wait, and its last delivery error."""
    settings = _settings(ctx)

    async def fetch(bot: Bot) -> list[str]:
        me = await bot.get_me()
        info = await bot.get_webhook_info()
        lines = [f"bot: @{me.username}", f"webhook: {info.url or '(none: use `hotline telegram poll`)'}"]
        lines.append(f"pending updates: {info.pending_update_count}")
        if info.last_error_message:
            lines.append(f"last error: {info.last_error_message} ({info.last_error_date})")
        return lines

    for line in _with_bot(settings, fetch):
        click.echo(line)


COMMANDS = [telegram_group]
