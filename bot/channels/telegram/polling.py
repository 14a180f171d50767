"""Long polling, for operators without a public HTTPS address: ``hotline telegram poll``.

The webhook is deleted first (Telegram serves one or the other). Updates are fetched with
``getUpdates`` and fed to the same handlers as the webhook's. An update is confirmed to Telegram (by
asking for the ones after it) only once it was handled, so an update that failed on a passing error (the
database restarting) is fetched again; one that keeps failing is skipped after a few tries, with an
error in the log, so that it cannot hold back everyone else's.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from aiogram.exceptions import (
    ClientDecodeError,
    TelegramAPIError,
    TelegramConflictError,
    TelegramRetryAfter,
    TelegramUnauthorizedError,
)
from aiogram.methods import DeleteWebhook, GetUpdates

from bot.channels.telegram.client import describe
from bot.errors import HotlineError

if TYPE_CHECKING:
    from bot.channels.telegram.channel import TelegramChannel

log = logging.getLogger(__name__)

ALLOWED_UPDATES = ["message", "callback_query"]
MAX_TRIES = 5


class PollingStopped(HotlineError):
    """Polling cannot go on: the token was refused, or another process (or a webhook) takes the updates."""


async def run_polling(
    channel: TelegramChannel,
    *,
    wait: int = 25,
    pause: float = 5.0,
    max_tries: int = MAX_TRIES,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> None:
    """Fetch and handle updates until cancelled (Ctrl-C) or :class:`PollingStopped`.

    ``wait`` is the long-polling time Telegram holds a request open; ``pause`` the time to wait after a
    failure; an update that failed ``max_tries`` times is skipped.
    """
    bot = channel.bot
    try:
        await bot(DeleteWebhook(drop_pending_updates=False))
    except TelegramUnauthorizedError:
        raise PollingStopped("Telegram refused the bot token: check HOTLINE_TELEGRAM_TOKEN.") from None
    offset: int | None = None
    failures = 0
    log.info("polling Telegram for updates")
    while True:
        try:
            updates = await bot(
                GetUpdates(offset=offset, timeout=wait, allowed_updates=ALLOWED_UPDATES),
                request_timeout=wait + 10,
            )
        except TelegramRetryAfter as exc:
            await sleep(float(exc.retry_after))
            continue
        except TelegramUnauthorizedError:
            raise PollingStopped("Telegram refused the bot token: check HOTLINE_TELEGRAM_TOKEN.") from None
        except TelegramConflictError:
            raise PollingStopped(
                "Telegram says another process is polling with this token, or a webhook was set again."
            ) from None
        except (TelegramAPIError, ClientDecodeError) as exc:
            log.warning("fetching Telegram updates failed (%s); trying again", describe(exc))
            await sleep(pause)
            continue
        for update in updates:
            try:
                await channel.feed(update)
            except Exception as exc:
                failures += 1
                if failures < max_tries:
                    log.warning("telegram update not handled (%s); trying again", type(exc).__name__)
                    await sleep(pause)
                    break
                log.error("telegram update skipped after %d failed tries (%s)", failures, type(exc).__name__)
            failures = 0
            offset = update.update_id + 1
