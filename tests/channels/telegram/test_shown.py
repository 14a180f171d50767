"""Deleting one's data also clears the chat on the phone, as far as Telegram allows (48 hours)."""

from __future__ import annotations

import httpx
from sqlalchemy import select

from bot.channels.telegram.shown import CLEANUP_KIND, CONTEXT_KEY
from bot.clock import FrozenClock
from bot.runtime import Services
from bot.store.models import Conversation, OutboxEvent
from tests.channels.telegram.helpers import count, deliver, post_update
from tests.fakes.telegram_api import FakeTelegram

CHAT = 711_222_333


async def talk(client: httpx.AsyncClient, services: Services, update: dict) -> None:
    response = await post_update(client, update)
    assert response.status_code == 200
    await deliver(services)


async def test_quick_exit_clears_everything_including_the_words_that_asked_for_it(
    client: httpx.AsyncClient, services: Services, telegram: FakeTelegram
) -> None:
    await talk(client, services, telegram.text_update(CHAT, "/start"))
    await talk(client, services, telegram.text_update(CHAT, "PrEP là gì"))
    await talk(client, services, telegram.text_update(CHAT, "thoát nhanh"))
    last = telegram.sent(CHAT)[-1]
    assert last.params["text"] == "Đã xóa."
    assert sorted(telegram.deleted(CHAT)) == list(range(1, int(last.params["_message_id"])))
    assert await count(services, Conversation) == 0


async def test_only_messages_younger_than_48_hours_are_deleted(
    client: httpx.AsyncClient, services: Services, telegram: FakeTelegram, clock: FrozenClock
) -> None:
    await talk(client, services, telegram.text_update(CHAT, "/start"))
    old = {int(c.params["_message_id"]) for c in telegram.sent(CHAT)} | {1}
    clock.advance(hours=47)
    await talk(client, services, telegram.text_update(CHAT, "PrEP là gì"))
    clock.advance(hours=2)
    await talk(client, services, telegram.text_update(CHAT, "/xoa"))
    await talk(client, services, telegram.tap(CHAT, "Xóa ngay"))
    deleted = set(telegram.deleted(CHAT))
    assert deleted, "the recent ones are deleted"
    assert not deleted & old, "Telegram no longer allows deleting the ones over 48 hours old"


async def test_a_cleanup_refused_with_429_is_retried_and_the_confirmation_waits_for_it(
    client: httpx.AsyncClient, services: Services, telegram: FakeTelegram, clock: FrozenClock
) -> None:
    await talk(client, services, telegram.text_update(CHAT, "/start"))
    await talk(client, services, telegram.text_update(CHAT, "/xoa"))
    telegram.fail_next("deleteMessages", status=429, retry_after=4)
    await talk(client, services, telegram.tap(CHAT, "Xóa ngay"))
    assert telegram.deleted(CHAT) == []
    assert "Đã xóa" not in telegram.sent(CHAT)[-1].params["text"], "the confirmation comes after the clean-up"
    clock.advance(seconds=4)
    await deliver(services)
    assert telegram.deleted(CHAT)
    assert "Đã xóa" in telegram.sent(CHAT)[-1].params["text"]


async def test_ids_telegram_cannot_delete_any_more_end_the_cleanup_quietly(
    client: httpx.AsyncClient, services: Services, telegram: FakeTelegram
) -> None:
    await talk(client, services, telegram.text_update(CHAT, "/start"))
    await talk(client, services, telegram.text_update(CHAT, "/xoa"))
    telegram.fail_next("deleteMessages", status=400)
    await talk(client, services, telegram.tap(CHAT, "Xóa ngay"))
    assert await count(services, OutboxEvent, OutboxEvent.kind == CLEANUP_KIND) == 0, "finished: deleted"
    assert "Đã xóa" in telegram.sent(CHAT)[-1].params["text"]


async def test_the_remembered_ids_are_encrypted_and_a_new_conversation_starts_with_none(
    client: httpx.AsyncClient, services: Services, telegram: FakeTelegram
) -> None:
    await talk(client, services, telegram.text_update(CHAT, "/start"))
    async with services.sessionmaker() as db:
        conversation = (await db.execute(select(Conversation))).scalar_one()
    token = conversation.context[CONTEXT_KEY]
    assert isinstance(token, str) and token.startswith("gAAAA"), "a Fernet token"
    ids = services.crypto.decrypt_json(token)
    assert [m for m, _ in ids] == [1, 2, 3]

    await talk(client, services, telegram.text_update(CHAT, "/xoa"))
    await talk(client, services, telegram.tap(CHAT, "Xóa ngay"))
    await talk(client, services, telegram.text_update(CHAT, "menu"))
    async with services.sessionmaker() as db:
        conversation = (await db.execute(select(Conversation))).scalar_one()
    fresh = [m for m, _ in services.crypto.decrypt_json(conversation.context[CONTEXT_KEY])]
    confirmation = next(c for c in telegram.sent(CHAT) if "Đã xóa" in c.params["text"])
    assert int(confirmation.params["_message_id"]) not in fresh, "the confirmation stays on the phone"
    assert min(fresh) > int(confirmation.params["_message_id"])
