"""Talking to the Telegram Bot API: the aiogram ``Bot`` built from settings, paced, with outbox-ready errors.

Nothing here knows about conversations, so the same client serves the person-facing channel and the
paging of counsellors in the staff group. Errors come out as what the outbox understands:
:class:`~bot.outbox.dispatcher.Retry` after Telegram's ``retry_after`` on a 429,
:class:`~bot.outbox.dispatcher.GiveUp` when the message can never be delivered (the person blocked the
bot, the chat is gone, Telegram refused the request), :class:`TelegramUnavailable` (tried again with
backoff) when Telegram could not be reached. Their messages never carry a chat id, a text or the token.
"""

from __future__ import annotations

import logging
import re
from typing import TypeVar

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import PRODUCTION, TelegramAPIServer
from aiogram.exceptions import (
    ClientDecodeError,
    TelegramAPIError,
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramUnauthorizedError,
)
from aiogram.methods import AnswerCallbackQuery, DeleteMessages, SendMessage, TelegramMethod
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.token import TokenValidationError, validate_token

from bot.channels.telegram.limits import RateLimiter
from bot.errors import ConfigError, HotlineError
from bot.outbox.dispatcher import GiveUp, NotYet, Retry, current_event
from bot.settings import Settings

log = logging.getLogger(__name__)

T = TypeVar("T")

REQUEST_TIMEOUT = 20.0  # seconds for one API call (long polling adds its own wait)
# Inside an outbox event, a wait up to this long for a chat's own pace is slept (a person's answer in
# several messages keeps flowing, holding one worker for that one chat); a longer one re-times the event.
MAX_PACING_SLEEP = 1.0
SECRET_FORMAT = re.compile(r"[A-Za-z0-9_-]{1,256}")  # fullmatch: "$" takes a final newline
_LONG_NUMBER = re.compile(r"\d{5,}")


class TelegramUnavailable(HotlineError):
    """Telegram could not be reached or failed on its side; the outbox tries again later."""


def build_bot(settings: Settings) -> Bot:
    """The aiogram Bot for ``HOTLINE_TELEGRAM_TOKEN``, talking to ``HOTLINE_TELEGRAM_API_URL`` if set.

    The API URL points the bot at another Bot API server: a self-hosted one, or a fake in tests.
    Raises :class:`ConfigError` when the token is missing or malformed. Close it with
    ``await bot.session.close()``.
    """
    if settings.telegram_token is None:
        raise ConfigError(
            "HOTLINE_TELEGRAM_TOKEN is not set: create a bot with @BotFather and set its token."
        )
    token = settings.telegram_token.get_secret_value()
    try:
        validate_token(token)
    except TokenValidationError:
        raise ConfigError(
            "HOTLINE_TELEGRAM_TOKEN does not look like a bot token (digits, a colon, then letters, "
            "as @BotFather gives it)."
        ) from None
    api = TelegramAPIServer.from_base(settings.telegram_api_url) if settings.telegram_api_url else PRODUCTION
    return Bot(token, session=AiohttpSession(api=api, timeout=REQUEST_TIMEOUT))


def webhook_secret(settings: Settings) -> str | None:
    """The webhook secret, checked against Telegram's format (1-256 of ``A-Z a-z 0-9 _ -``); None if unset."""
    if settings.telegram_webhook_secret is None:
        return None
    value = settings.telegram_webhook_secret.get_secret_value()
    if not SECRET_FORMAT.fullmatch(value):
        raise ConfigError(
            "HOTLINE_TELEGRAM_WEBHOOK_SECRET must be 1-256 characters of A-Z, a-z, 0-9, _ and - "
            "(Telegram's rule). Generate one with "
            "`python -c 'import secrets; print(secrets.token_urlsafe(32))'`."
        )
    return value


def describe(exc: BaseException) -> str:
    """A short account of a Telegram error, safe to log and store: no chat id, text or token."""
    if isinstance(exc, TelegramAPIError) and not isinstance(exc, TelegramRetryAfter):
        description = _LONG_NUMBER.sub("…", exc.message.splitlines()[0])[:120]
        return f"{type(exc).__name__}: {description}"
    return type(exc).__name__


def outbox_error(exc: TelegramAPIError | ClientDecodeError) -> Exception:
    """Translate an aiogram error into what the outbox dispatcher does with it."""
    if isinstance(exc, TelegramRetryAfter):
        return Retry(float(exc.retry_after), f"telegram flood control: retry after {exc.retry_after} s")
    if isinstance(exc, TelegramForbiddenError):
        return GiveUp(f"telegram will not deliver: the person blocked the bot or left ({describe(exc)})")
    if isinstance(exc, TelegramUnauthorizedError):
        return TelegramUnavailable("telegram refused the bot token (401): check HOTLINE_TELEGRAM_TOKEN")
    if isinstance(exc, TelegramBadRequest | TelegramNotFound):
        return GiveUp(f"telegram refused the request ({describe(exc)})")
    return TelegramUnavailable(f"telegram is unavailable ({describe(exc)}); will try again")


class TelegramClient:
    """The bot and its pace: every message goes through the rate limiter, every error is translated.

    Sent from an outbox event, a message that must wait longer than :data:`MAX_PACING_SLEEP` raises
    :class:`~bot.outbox.dispatcher.NotYet` (the event comes back when its reserved slot is due) instead
    of sleeping in the dispatcher's worker; sent from anywhere else (answering a counsellor's command),
    it waits.
    """

    def __init__(
        self, bot: Bot, limiter: RateLimiter | None = None, *, max_sleep: float = MAX_PACING_SLEEP
    ) -> None:
        self.bot = bot
        self.limiter = limiter or RateLimiter()
        self.max_sleep = max_sleep

    async def pace(self, chat_id: int) -> None:
        """Wait for ``chat_id``'s next slot, or, inside an outbox event, raise ``NotYet`` if it is far."""
        event = current_event()
        if event is None:
            await self.limiter.wait(chat_id)
            return
        while (delay := self.limiter.book(chat_id, (event, chat_id))) > 0:
            if delay > self.max_sleep:
                raise NotYet(delay, "telegram pacing")
            await self.limiter.sleep(delay)

    async def call(self, method: TelegramMethod[T]) -> T:
        """Run one API method; errors come out as ``Retry``, ``GiveUp`` or :class:`TelegramUnavailable`."""
        try:
            return await self.bot(method)
        except (TelegramAPIError, ClientDecodeError) as exc:
            raise outbox_error(exc) from None

    async def send_text(self, chat_id: int, text: str, keyboard: InlineKeyboardMarkup | None = None) -> int:
        """Send one message (paced per chat and overall); its Telegram message id."""
        await self.pace(chat_id)
        message = await self.call(SendMessage(chat_id=chat_id, text=text, reply_markup=keyboard))
        return message.message_id

    async def delete_messages(self, chat_id: int, message_ids: list[int]) -> None:
        """Delete messages in a chat, 100 at a time; ids Telegram can no longer delete are skipped."""
        for start in range(0, len(message_ids), 100):
            chunk = message_ids[start : start + 100]
            await self.pace(chat_id)
            try:
                await self.call(DeleteMessages(chat_id=chat_id, message_ids=chunk))
            except GiveUp as exc:
                # Too old (over 48 hours) or already gone: nothing more can be done for these.
                log.info("telegram could not delete %d message(s): %s", len(chunk), exc)

    async def answer_callback(self, query_id: str, text: str | None = None) -> None:
        """Stop the button's spinner (best effort: a late or failed answer changes nothing else)."""
        try:
            await self.bot(AnswerCallbackQuery(callback_query_id=query_id, text=text), request_timeout=5)
        except (TelegramAPIError, ClientDecodeError) as exc:
            log.info("telegram callback answer failed: %s", describe(exc))

    async def close(self) -> None:
        await self.bot.session.close()
