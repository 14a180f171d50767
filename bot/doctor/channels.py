"""The doors checked for real: the public URL, Telegram, the Zalo Bot, the Zalo OA, Messenger and Twilio.

Each asks the platform the way the service does (the same clients, pointed at the same API URLs), so a
fake on loopback stands in for the platform in the tests. A channel that is not configured is skipped.
Messages name settings and commands, never a token. (The clients are imported here, before any time
limit runs: this module is imported only by ``hotline doctor``.)
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import httpx
from aiogram.exceptions import TelegramAPIError, TelegramUnauthorizedError
from pydantic import SecretStr
from twilio.base.exceptions import TwilioRestException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.rest import Client

from bot.channels.messenger import INVALID_TOKEN, MessengerError, SendApi
from bot.channels.telegram.client import build_bot, describe, webhook_secret
from bot.channels.telegram.webhook import PATH
from bot.channels.zalo.bot_api import BotApi
from bot.channels.zalo.errors import ZaloApiError, ZaloAuthError, ZaloError
from bot.channels.zalo.oa_api import OaApi
from bot.channels.zalo.oa_tokens import OaTokens
from bot.doctor.report import Context, Finding, ok, problem, skipped
from bot.errors import ConfigError
from bot.store.db import make_sessionmaker
from bot.store.keyring import load_crypto
from ivr.urls import VOICE

PENDING_LIMIT = 20
"""More updates than this waiting at Telegram means they are not being taken."""
RECENT_ERROR = timedelta(hours=1)
"""Telegram keeps its last delivery error until the next one: older than this, it is history."""
NETWORK_FIX = "check the server's network connection (and any firewall) to the platform"


def _base(ctx: Context) -> str:
    return ctx.settings.public_url.rstrip("/")


# -- the public URL ----------------------------------------------------------------------------------


async def public_url(ctx: Context) -> list[Finding]:
    """``GET {HOTLINE_PUBLIC_URL}/healthz`` answers ``ok``: what Telegram, Zalo and Twilio will reach."""
    url = f"{_base(ctx)}/healthz"
    fix = (
        "check that the service runs (`systemctl status hotline`), that nginx forwards to it, and that "
        "HOTLINE_PUBLIC_URL is the address people and platforms use"
    )
    try:
        async with httpx.AsyncClient(timeout=ctx.timeout, follow_redirects=True) as http:
            response = await http.get(url)
    except httpx.HTTPError as exc:
        return [problem("public URL", f"{url} does not answer ({type(exc).__name__})", fix)]
    status = None
    try:
        body = response.json()
        status = body.get("status") if isinstance(body, dict) else None
    except ValueError:
        pass
    if response.status_code == 200 and status in ("ok", "starting"):
        return [ok("public URL", f"{url} answers {status}")]
    return [problem("public URL", f"{url} answers {response.status_code} {status or ''}".rstrip(), fix)]


# -- Telegram ----------------------------------------------------------------------------------------


async def telegram(ctx: Context) -> list[Finding]:
    """The token works (``getMe``) and Telegram delivers to our webhook (``getWebhookInfo``)."""
    settings = ctx.settings
    if settings.telegram_token is None:
        return [skipped("Telegram")]
    try:
        bot = build_bot(settings)
    except ConfigError as exc:
        return [problem("Telegram token", str(exc), "copy the token again from @BotFather (/token)")]
    seconds = max(1, math.ceil(ctx.timeout))
    try:
        try:
            me = await bot.get_me(request_timeout=seconds)
        except TelegramUnauthorizedError:
            return [
                problem(
                    "Telegram token",
                    "Telegram refused the token (401): the bot was deleted or the token was revoked",
                    "copy the bot's current token from @BotFather (/token) into HOTLINE_TELEGRAM_TOKEN",
                )
            ]
        except TelegramAPIError as exc:
            return [problem("Telegram token", f"Telegram could not be asked ({describe(exc)})", NETWORK_FIX)]
        found = [ok("Telegram token", f"the bot is @{me.username}")]
        try:
            info = await bot.get_webhook_info(request_timeout=seconds)
        except TelegramAPIError as exc:
            return [*found, problem("Telegram webhook", f"could not be read ({describe(exc)})", NETWORK_FIX)]
        found += _webhook(
            ctx, info.url, info.pending_update_count, info.last_error_date, info.last_error_message
        )
    finally:
        await bot.session.close()
    found.append(_staff_group(ctx))
    return found


def _webhook(
    ctx: Context, url: str, pending: int, error_at: datetime | int | None, error: str | None
) -> list[Finding]:
    expected = _base(ctx) + PATH
    set_it = "run `hotline telegram set-webhook`"
    found: list[Finding] = []
    try:
        secret = webhook_secret(ctx.settings)
    except ConfigError as exc:
        return [problem("Telegram webhook", str(exc))]
    if not url:
        found.append(
            problem(
                "Telegram webhook",
                "none is set: Telegram holds people's messages (unless `hotline telegram poll` runs)",
                set_it,
            )
        )
    elif url != expected:
        found.append(
            problem(
                "Telegram webhook",
                f"Telegram sends messages to {url}, not to {expected}",
                f"{set_it} (or correct HOTLINE_PUBLIC_URL if that is what is wrong)",
            )
        )
    elif secret is None:
        found.append(
            problem(
                "Telegram webhook",
                "HOTLINE_TELEGRAM_WEBHOOK_SECRET is not set: the server refuses every delivery",
                f"set it (e.g. `python -c 'import secrets; print(secrets.token_urlsafe(32))'`), then {set_it}",
            )
        )
    else:
        # Telegram never shows the secret token it sends; a different one shows as a 403 error below.
        found.append(ok("Telegram webhook", f"Telegram sends to {expected} (the secret cannot be read back)"))
    if pending > PENDING_LIMIT:
        found.append(
            problem(
                "Telegram queue",
                f"{pending} messages wait at Telegram: they are not being taken",
                "check the public URL (above) and the service's log",
            )
        )
    when = _as_datetime(error_at)
    if error and when is not None and ctx.now() - when < RECENT_ERROR:
        minutes = max(0, int((ctx.now() - when).total_seconds() // 60))
        fix = (
            f"the webhook secret differs from the server's HOTLINE_TELEGRAM_WEBHOOK_SECRET: {set_it}"
            if "403" in error
            else "check that the public URL answers over HTTPS (above) and the service's log"
        )
        found.append(problem("Telegram delivery", f"failed {minutes} min ago: {error[:160]}", fix))
    return found


def _as_datetime(value: datetime | int | None) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime.fromtimestamp(value, UTC)


def _staff_group(ctx: Context) -> Finding:
    if ctx.settings.telegram_staff_chat_id is None:
        return problem(
            "staff group",
            "HOTLINE_TELEGRAM_STAFF_CHAT_ID is not set: emergencies are not posted to counsellors in Telegram",
            "add the bot to the counsellors' group and set the group's id (see deploy/README.md)",
        )
    return ok("staff group", "HOTLINE_TELEGRAM_STAFF_CHAT_ID is set")


# -- Zalo --------------------------------------------------------------------------------------------


async def zalo_bot(ctx: Context) -> list[Finding]:
    """The Zalo Bot Platform accepts the bot token (``getMe``)."""
    settings = ctx.settings
    if settings.zalo_bot_token is None:
        return [skipped("Zalo Bot")]
    async with httpx.AsyncClient(timeout=ctx.timeout) as http:
        try:
            me = await BotApi(settings.zalo_bot_api_url, settings.zalo_bot_token, http).get_me()
        except ZaloAuthError:
            return [
                problem(
                    "Zalo Bot token",
                    "Zalo refused the bot token",
                    "copy the token again from Zalo Bot Manager into HOTLINE_ZALO_BOT_TOKEN",
                )
            ]
        except ZaloApiError as exc:
            return [problem("Zalo Bot token", f"Zalo could not be asked ({exc})", NETWORK_FIX)]
    name = me.get("account_name") or me.get("display_name") or "the bot"
    return [ok("Zalo Bot token", f"the token works ({name})")]


async def zalo_oa(ctx: Context) -> list[Finding]:
    """The Official Account's access token in use (stored, else from the settings) is accepted."""
    settings = ctx.settings
    if not settings.zalo_oa_app_id:
        return [skipped("Zalo OA")]
    access = await _oa_access_token(ctx)
    if access is None:
        return [
            problem(
                "Zalo OA token",
                "no access token: neither stored nor in HOTLINE_ZALO_OA_ACCESS_TOKEN",
                "authorise the OA (Zalo for Developers), then `hotline zalo-oa set-tokens`",
            )
        ]
    async with httpx.AsyncClient(timeout=ctx.timeout) as http:
        try:
            code, message = await OaApi(settings.zalo_oa_api_url, settings.zalo_oa_oauth_url, http).check(
                access
            )
        except ZaloError as exc:
            return [problem("Zalo OA token", f"Zalo could not be asked ({exc})", NETWORK_FIX)]
    if code == 0:
        return [ok("Zalo OA token", "the access token works")]
    # An access token lives about 25 hours and the service refreshes it when a send is refused; the
    # doctor does not refresh (that spends the refresh token), so it says how to check that one.
    return [
        problem(
            "Zalo OA token",
            f"Zalo refused the access token (error {code}: {message})",
            "run `hotline zalo-oa refresh` (safe while the service runs); if Zalo refuses that too, "
            "authorise the OA again and run `hotline zalo-oa set-tokens`",
        )
    ]


async def _oa_access_token(ctx: Context) -> SecretStr | None:
    """The access token the service would use: the stored pair if it can be read, else the settings'."""
    try:
        sessionmaker = make_sessionmaker(ctx.engine())
        crypto = await load_crypto(ctx.settings.secret, sessionmaker)
        async with httpx.AsyncClient() as http:
            tokens = OaTokens(
                sessionmaker=sessionmaker,
                crypto=crypto,
                clock=ctx.clock,
                settings=ctx.settings,
                api=OaApi(ctx.settings.zalo_oa_api_url, ctx.settings.zalo_oa_oauth_url, http),
            )
            return (await tokens.current()).access_token
    except Exception:  # no database or key here: the database and key checks say why
        return ctx.settings.zalo_oa_access_token


# -- Messenger ---------------------------------------------------------------------------------------


async def messenger(ctx: Context) -> list[Finding]:
    """Meta accepts the Page token (the Page's name, one cheap Graph API call)."""
    settings = ctx.settings
    if settings.messenger_page_token is None:
        return [skipped("Messenger")]
    async with httpx.AsyncClient(timeout=ctx.timeout) as http:
        api = SendApi(
            settings.messenger_api_url, settings.messenger_api_version, settings.messenger_page_token, http
        )
        try:
            name = await api.page_name()
        except MessengerError as exc:
            if exc.code == INVALID_TOKEN:
                return [
                    problem(
                        "Messenger token",
                        "Meta refused the Page token",
                        "generate the Page's token again in the app's Messenger settings and put it into "
                        "HOTLINE_MESSENGER_PAGE_TOKEN (deploy/messenger.md)",
                    )
                ]
            return [problem("Messenger token", f"Meta could not be asked ({exc})", NETWORK_FIX)]
    return [ok("Messenger token", f"the token works ({name})")]


# -- Twilio ------------------------------------------------------------------------------------------


async def twilio(ctx: Context) -> list[Finding]:
    """Twilio accepts the credentials, and the hotline number's voice URL is our ``/ivr/voice``."""
    settings = ctx.settings
    if not settings.twilio_account_sid or settings.twilio_auth_token is None:
        return [skipped("Twilio")]
    http = AsyncTwilioHttpClient(timeout=ctx.timeout)
    client = Client(
        settings.twilio_account_sid, settings.twilio_auth_token.get_secret_value(), http_client=http
    )
    if settings.twilio_api_url:
        client.api.base_url = settings.twilio_api_url.rstrip("/")
    try:
        try:
            account = await client.api.v2010.accounts(settings.twilio_account_sid).fetch_async()
        except TwilioRestException as exc:
            if exc.status in (401, 403, 404):
                return [
                    problem(
                        "Twilio account",
                        f"Twilio refused the account SID and auth token ({exc.status})",
                        "copy both again from the Twilio console into HOTLINE_TWILIO_ACCOUNT_SID and "
                        "HOTLINE_TWILIO_AUTH_TOKEN",
                    )
                ]
            return [problem("Twilio account", f"Twilio answered {exc.status}", NETWORK_FIX)]
        if account.status not in (None, "active"):
            return [problem("Twilio account", f"the account is {account.status}", "see the Twilio console")]
        found = [ok("Twilio account", "the credentials work")]
        number = settings.twilio_caller_id
        if not number:
            return [*found, skipped("Twilio number", "HOTLINE_TWILIO_CALLER_ID is not set")]
        expected = _base(ctx) + VOICE
        numbers = await client.incoming_phone_numbers.list_async(phone_number=number, limit=1)
        fix = f"in the Twilio console, Phone Numbers > {number} > Voice: a call comes in > Webhook {expected} (POST)"
        if not numbers:
            found.append(
                problem(
                    "Twilio number",
                    f"{number} is not a number of this Twilio account",
                    "set HOTLINE_TWILIO_CALLER_ID to the hotline's number as the Twilio console shows it",
                )
            )
        elif numbers[0].voice_url != expected:
            found.append(
                problem(
                    "Twilio number", f"calls to {number} go to {numbers[0].voice_url or '(nothing)'}", fix
                )
            )
        else:
            found.append(ok("Twilio number", f"calls to {number} come to {expected}"))
        return found
    finally:
        if http.session is not None:
            await http.session.close()
