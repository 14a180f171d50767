"""``hotline zalo ...`` (the Zalo Bot) and ``hotline zalo-oa ...`` (the Official Account)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import click
import httpx
from pydantic import SecretStr

from bot.channels.zalo.bot_api import BotApi
from bot.channels.zalo.errors import ZaloError
from bot.channels.zalo.oa_api import OaApi, TokenPair
from bot.channels.zalo.oa_tokens import OaTokens
from bot.cli.common import settings_for
from bot.clock import SystemClock
from bot.settings import Settings


def _bot_call(settings: Settings, method: str, payload: dict[str, Any] | None = None) -> Any:
    if settings.zalo_bot_token is None:
        raise click.ClickException(
            "Set HOTLINE_ZALO_BOT_TOKEN (Zalo Bot Manager sends it when the bot is made)."
        )

    async def call() -> Any:
        async with httpx.AsyncClient() as http:
            assert settings.zalo_bot_token is not None
            return await BotApi(settings.zalo_bot_api_url, settings.zalo_bot_token, http).call(
                method, payload
            )

    try:
        return asyncio.run(call())
    except ZaloError as exc:
        raise click.ClickException(str(exc)) from None


@click.group("zalo")
def zalo() -> None:
    """The Zalo Bot (Zalo Bot Platform)."""


@zalo.command("set-webhook")
@click.option("--url", default=None, help="Default: HOTLINE_PUBLIC_URL + /zalo/webhook.")
@click.pass_context
def set_webhook(ctx: click.Context, url: str | None) -> None:
    """Tell Zalo where to send the bot's messages, with HOTLINE_ZALO_BOT_WEBHOOK_SECRET."""
    settings = settings_for(ctx)
    secret = settings.zalo_bot_webhook_secret
    if secret is None or not 8 <= len(secret.get_secret_value()) <= 256:
        raise click.ClickException("Set HOTLINE_ZALO_BOT_WEBHOOK_SECRET (8 to 256 characters) first.")
    url = url or settings.public_url.rstrip("/") + "/zalo/webhook"
    if not url.startswith("https://"):
        click.echo(f"warning: {url} is not HTTPS; Zalo calls only HTTPS webhooks", err=True)
    _bot_call(settings, "setWebhook", {"url": url, "secret_token": secret.get_secret_value()})
    click.echo(f"Zalo will send the bot's messages to {url}")


@zalo.command("me")
@click.pass_context
def me(ctx: click.Context) -> None:
    """Check the bot token: show the bot Zalo knows it by."""
    result = _bot_call(settings_for(ctx), "getMe")
    name = result.get("account_name") or result.get("display_name") if isinstance(result, dict) else None
    click.echo(f"the token works: {name or 'the bot'}")


async def _with_tokens(settings: Settings, action: Callable[[OaTokens], Awaitable[None]]) -> None:
    """Run ``action`` with the OA's token store on the configured database."""
    from bot.store.db import make_engine, make_sessionmaker
    from bot.store.keyring import load_crypto

    engine = make_engine(settings.database_url)
    try:
        sessionmaker = make_sessionmaker(engine)
        crypto = await load_crypto(settings.secret, sessionmaker)
        async with httpx.AsyncClient() as http:
            tokens = OaTokens(
                sessionmaker=sessionmaker,
                crypto=crypto,
                clock=SystemClock(),
                settings=settings,
                api=OaApi(settings.zalo_oa_api_url, settings.zalo_oa_oauth_url, http),
            )
            await action(tokens)
    finally:
        await engine.dispose()


@click.group("zalo-oa")
def zalo_oa() -> None:
    """The Zalo Official Account."""


@zalo_oa.command("webhook-url")
@click.pass_context
def webhook_url(ctx: click.Context) -> None:
    """Print the webhook URL to enter in Zalo for Developers (Webhook settings of the OA app)."""
    settings = settings_for(ctx)
    click.echo(settings.public_url.rstrip("/") + "/zalo-oa/webhook")


@zalo_oa.command("set-tokens")
@click.option("--access-token", prompt=True, hide_input=True)
@click.option("--refresh-token", prompt=True, hide_input=True)
@click.pass_context
def set_tokens(ctx: click.Context, access_token: str, refresh_token: str) -> None:
    """Store a new token pair (after authorising the OA again), encrypted; used from now on."""
    from bot.store.migrate import upgrade

    settings = settings_for(ctx)
    upgrade(settings.database_url)
    pair = TokenPair(SecretStr(access_token.strip()), SecretStr(refresh_token.strip()))

    async def store(tokens: OaTokens) -> None:
        await tokens.store(pair)

    asyncio.run(_with_tokens(settings, store))
    click.echo("stored; a running service reads it on its next refresh or restart")


@zalo_oa.command("refresh")
@click.pass_context
def refresh(ctx: click.Context) -> None:
    """Refresh the access token now (uses up the refresh token; the new pair is stored)."""
    settings = settings_for(ctx)

    async def run(tokens: OaTokens) -> None:
        current = await tokens.current()
        await tokens.refresh(current.access_token)

    try:
        asyncio.run(_with_tokens(settings, run))
    except ZaloError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo("refreshed; the new pair is stored encrypted")


COMMANDS = [zalo, zalo_oa]
