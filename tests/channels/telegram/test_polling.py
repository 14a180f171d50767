"""Long polling (``hotline telegram poll``): the same handlers, updates confirmed only once handled."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest
from sqlalchemy import text

from bot.channels.telegram import TelegramChannel
from bot.channels.telegram.polling import PollingStopped, run_polling
from bot.runtime import Services
from bot.store.models import Conversation, ProcessedMessage
from tests.channels.telegram.helpers import count, deliver
from tests.fakes.telegram_api import FakeTelegram

CHAT = 246_813_579


async def until(condition: Callable[[], Awaitable[bool]], seconds: float = 5.0) -> None:
    async with asyncio.timeout(seconds):
        while not await condition():  # noqa: ASYNC110 (polling a database and a fake server)
            await asyncio.sleep(0.01)


async def test_polling_deletes_the_webhook_then_handles_and_confirms_updates(
    services: Services, channel: TelegramChannel, telegram: FakeTelegram
) -> None:
    telegram.webhook = {"url": "https://old.example.org/telegram/webhook"}
    first = telegram.text_update(CHAT, "/start")
    telegram.queue(first)
    task = asyncio.create_task(run_polling(channel, wait=1, pause=0.01))
    try:
        await until(lambda: _has(services, Conversation, 1))
        second = telegram.text_update(CHAT, "menu")
        telegram.queue(second)
        await until(lambda: _has(services, ProcessedMessage, 2))
        await until(lambda: _asked_after(telegram, second["update_id"]))
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert telegram.calls[0].method == "deleteWebhook" and telegram.webhook == {}
    polls = telegram.calls_of("getUpdates")
    assert polls[0].params["allowed_updates"] == ["message", "callback_query"]
    assert polls[0].params.get("offset") is None
    await deliver(services)
    texts = [c.params["text"] for c in telegram.sent(CHAT)]
    assert any("ẩn danh" in t for t in texts) and "Bạn cần hỗ trợ gì" in texts[-1]


async def test_an_update_that_failed_is_fetched_again_and_answered_once(
    services: Services, channel: TelegramChannel, telegram: FakeTelegram
) -> None:
    async with services.db.begin() as connection:
        await connection.execute(text("ALTER TABLE processed_messages RENAME TO processed_messages_away"))
    update = telegram.text_update(CHAT, "/start")
    telegram.queue(update)
    task = asyncio.create_task(run_polling(channel, wait=1, pause=0.01, max_tries=10_000))
    try:
        await until(lambda: _polled_at_least(telegram, 3))
        async with services.db.begin() as connection:
            await connection.execute(text("ALTER TABLE processed_messages_away RENAME TO processed_messages"))
        await until(lambda: _asked_after(telegram, update["update_id"]))
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert await count(services, ProcessedMessage) == 1
    await deliver(services)
    assert len([c for c in telegram.sent(CHAT) if c.buttons]) == 1


async def test_an_update_that_keeps_failing_is_skipped_so_later_ones_get_through(
    services: Services, channel: TelegramChannel, telegram: FakeTelegram
) -> None:
    async with services.db.begin() as connection:
        await connection.execute(text("ALTER TABLE processed_messages RENAME TO processed_messages_away"))
    failing = telegram.text_update(CHAT, "/start")
    telegram.queue(failing)
    task = asyncio.create_task(run_polling(channel, wait=1, pause=0.01, max_tries=3))
    try:
        await until(lambda: _asked_after(telegram, failing["update_id"]))
        async with services.db.begin() as connection:
            await connection.execute(text("ALTER TABLE processed_messages_away RENAME TO processed_messages"))
        later = telegram.text_update(CHAT, "menu")
        telegram.queue(later)
        await until(lambda: _asked_after(telegram, later["update_id"]))
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert await count(services, ProcessedMessage) == 1
    assert len(telegram.calls_of("getUpdates")) >= 4, "three tries, then on"


async def test_another_poller_stops_polling_with_a_clear_reason(
    services: Services, channel: TelegramChannel, telegram: FakeTelegram
) -> None:
    telegram.fail_next(
        "getUpdates", status=409, description="Conflict: terminated by other getUpdates request"
    )
    with pytest.raises(PollingStopped, match="another process"):
        await run_polling(channel, wait=1, pause=0.01)


async def _has(services: Services, model: type, n: int) -> bool:
    return await count(services, model) >= n


async def _polled_at_least(telegram: FakeTelegram, n: int) -> bool:
    return len(telegram.calls_of("getUpdates")) >= n


async def _asked_after(telegram: FakeTelegram, update_id: int) -> bool:
    return any(str(c.params.get("offset")) == str(update_id + 1) for c in telegram.calls_of("getUpdates"))
