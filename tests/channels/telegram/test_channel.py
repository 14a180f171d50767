"""The Telegram channel end to end: webhook -> engine -> outbox -> the real aiogram bot -> the fake Bot API."""

from __future__ import annotations

import asyncio
import contextlib

import httpx
from sqlalchemy import select

from bot.channels.telegram import TelegramChannel
from bot.clock import FrozenClock
from bot.messages import Choice, Reply
from bot.runtime import Services
from bot.store.models import Contact, Conversation, Message, OutboxEvent, ProcessedMessage
from tests.channels.telegram.helpers import count, deliver, post_update
from tests.fakes.telegram_api import Call, FakeTelegram

CHAT = 987_654_321


def texts(calls: list[Call]) -> str:
    return "\n".join(str(c.params["text"]) for c in calls)


def labels(call: Call) -> list[str]:
    return [b["text"] for b in call.buttons]


async def say(
    client: httpx.AsyncClient, services: Services, telegram: FakeTelegram, update: dict
) -> list[Call]:
    """Post one update, run the outbox, and return what the bot sent to the chat because of it."""
    before = len(telegram.sent(CHAT))
    response = await post_update(client, update)
    assert response.status_code == 200, response.text
    await deliver(services)
    return telegram.sent(CHAT)[before:]


async def test_whole_conversation_start_menu_question_answer_delete(
    client: httpx.AsyncClient, services: Services, telegram: FakeTelegram
) -> None:
    new = await say(client, services, telegram, telegram.text_update(CHAT, "/start"))
    assert "ẩn danh" in texts(new) and "không lưu" in texts(new)
    assert labels(new[-1]) == ["Tiếng Việt", "English"]
    assert [b["callback_data"] for b in new[-1].buttons] == ["welcome.language:vi", "welcome.language:en"]
    assert all(not c.buttons for c in new[:-1]), "the keyboard goes under the last message only"

    tap = telegram.tap(CHAT, "Tiếng Việt")
    new = await say(client, services, telegram, tap)
    assert "Bạn cần hỗ trợ gì" in new[-1].params["text"]
    assert any("pháp luật" in label for label in labels(new[-1]))
    answered = telegram.calls_of("answerCallbackQuery")
    assert [c.params["callback_query_id"] for c in answered] == [tap["callback_query"]["id"]]

    new = await say(client, services, telegram, telegram.tap(CHAT, "pháp luật"))
    assert new[-1].buttons, "the legal menu lists its articles as buttons"

    new = await say(client, services, telegram, telegram.text_update(CHAT, "ban dam bi phat bao nhieu tien"))
    assert "300.000" in texts(new) and "500.000" in texts(new)
    assert "Có, cảm ơn" in labels(new[-1])

    new = await say(client, services, telegram, telegram.tap(CHAT, "Có, cảm ơn"))
    assert "Cảm ơn" in texts(new)
    async with services.sessionmaker() as db:
        contact = (await db.execute(select(Contact))).scalar_one()
    assert contact.channel == "telegram" and contact.helpful is True and "legal" in contact.topics

    new = await say(client, services, telegram, telegram.text_update(CHAT, "/xoa"))
    assert labels(new[-1]) == ["Xóa ngay", "Không, quay lại"]
    new = await say(client, services, telegram, telegram.tap(CHAT, "Xóa ngay"))
    assert len(new) == 1 and "Đã xóa" in new[0].params["text"]

    # Everything shown in the chat before the confirmation is deleted from the phone, the person's
    # messages and the bot's alike, before the confirmation arrives.
    confirmation_id = int(new[0].params["_message_id"])
    assert sorted(telegram.deleted(CHAT)) == list(range(1, confirmation_id))
    methods = [c.method for c in telegram.calls]
    assert methods.index("deleteMessages") < len(methods) - 1 - methods[::-1].index("sendMessage")
    assert await count(services, Conversation) == 0
    assert await count(services, Message) == 0
    assert await count(services, OutboxEvent, OutboxEvent.status != "done") == 0
    assert await count(services, Contact) == 1, "statistics stay, without content"


async def test_a_retried_update_gets_one_answer(
    client: httpx.AsyncClient, services: Services, telegram: FakeTelegram
) -> None:
    update = telegram.text_update(CHAT, "PrEP là gì")
    for _ in range(3):
        response = await post_update(client, update)
        assert response.status_code == 200
    assert telegram.sent() == [], "the webhook only answers 200; replies leave through the outbox"
    await deliver(services)
    once = len(telegram.sent(CHAT))
    assert once >= 1
    await post_update(client, update)
    await deliver(services)
    assert len(telegram.sent(CHAT)) == once
    assert await count(services, ProcessedMessage) == 1
    assert await count(services, Message, Message.direction == "in") == 1

    tap = telegram.tap(CHAT, "Có")
    await post_update(client, tap)
    await post_update(client, tap)
    await deliver(services)
    assert await count(services, ProcessedMessage) == 2, "a retried button tap is also handled once"


async def test_the_webhook_wakes_the_outbox_so_replies_go_out_at_once(
    client: httpx.AsyncClient, services: Services, telegram: FakeTelegram
) -> None:
    outbox = asyncio.create_task(services.dispatcher.run_forever(interval=3600))
    try:
        await asyncio.sleep(0.05)  # its first cycle, with nothing to do; then it sleeps for an hour
        await post_update(client, telegram.text_update(CHAT, "/start"))
        async with asyncio.timeout(5):
            while not telegram.sent(CHAT) or not telegram.sent(CHAT)[-1].buttons:  # noqa: ASYNC110
                await asyncio.sleep(0.01)
    finally:
        outbox.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await outbox


async def test_a_429_is_retried_after_retry_after_without_sleeping(
    client: httpx.AsyncClient, services: Services, telegram: FakeTelegram, clock: FrozenClock
) -> None:
    telegram.fail_next("sendMessage", status=429, retry_after=7)
    await post_update(client, telegram.text_update(CHAT, "/start"))
    assert await deliver(services) == 0
    assert [c.status for c in telegram.calls_of("sendMessage", ok_only=False)] == [429]

    clock.advance(seconds=6)
    assert await deliver(services) == 0, "not before retry_after"
    assert len(telegram.calls_of("sendMessage", ok_only=False)) == 1

    clock.advance(seconds=1)
    assert await deliver(services) == 1
    assert labels(telegram.sent(CHAT)[-1]) == ["Tiếng Việt", "English"]
    async with services.sessionmaker() as db:
        event = (await db.execute(select(OutboxEvent))).scalar_one()
    assert event.status == "done" and event.attempts == 2


async def test_a_429_in_the_middle_of_a_reply_resumes_without_repeating(
    client: httpx.AsyncClient, services: Services, telegram: FakeTelegram, clock: FrozenClock
) -> None:
    telegram.fail_next("sendMessage", status=429, retry_after=3, after=1)
    await post_update(client, telegram.text_update(CHAT, "/start"))
    await deliver(services)
    assert len(telegram.sent(CHAT)) == 1, "the first message went, the second got a 429"
    clock.advance(seconds=3)
    await deliver(services)
    sent = telegram.sent(CHAT)
    assert len(sent) == 2
    assert "ẩn danh" in sent[0].params["text"] and labels(sent[1]) == ["Tiếng Việt", "English"]


async def test_later_replies_wait_for_a_retried_one(
    client: httpx.AsyncClient, services: Services, telegram: FakeTelegram, clock: FrozenClock
) -> None:
    telegram.fail_next("sendMessage", status=429, retry_after=10)
    await post_update(client, telegram.text_update(CHAT, "/start"))
    await deliver(services)
    await post_update(client, telegram.text_update(CHAT, "menu"))
    await deliver(services)
    assert telegram.sent(CHAT) == [], "the person's replies keep their order"
    clock.advance(seconds=10)
    await deliver(services)
    sent = telegram.sent(CHAT)
    assert "ẩn danh" in sent[0].params["text"]
    assert "Bạn cần hỗ trợ gì" in sent[-1].params["text"]


async def test_a_person_who_blocked_the_bot_is_given_up_without_their_chat_id(
    client: httpx.AsyncClient, services: Services, telegram: FakeTelegram
) -> None:
    telegram.block(CHAT)
    await post_update(client, telegram.text_update(CHAT, "/start"))
    assert await deliver(services) == 1
    async with services.sessionmaker() as db:
        event = (await db.execute(select(OutboxEvent))).scalar_one()
    assert event.status == "dead"
    assert "blocked" in (event.last_error or "")
    assert str(CHAT) not in (event.last_error or "")


async def test_telegram_down_is_tried_again_later(
    client: httpx.AsyncClient, services: Services, telegram: FakeTelegram, clock: FrozenClock
) -> None:
    telegram.fail_next("sendMessage", status=500, times=1)
    await post_update(client, telegram.text_update(CHAT, "/start"))
    assert await deliver(services) == 0
    clock.advance(seconds=2)
    await deliver(services)
    assert labels(telegram.sent(CHAT)[-1]) == ["Tiếng Việt", "English"]


async def test_a_long_reply_is_split_at_the_limit_with_the_keyboard_last(
    channel: TelegramChannel, telegram: FakeTelegram
) -> None:
    paragraph = "Một đoạn văn dài về sức khỏe. " * 60
    text = "\n\n".join([paragraph.strip()] * 5)
    assert len(text) > 8000
    reply = Reply(text=text, choices=(Choice("main.menu:legal", "Pháp luật"),))
    await channel.send(str(CHAT), [reply])
    sent = telegram.sent(CHAT)
    assert len(sent) == 3
    assert all(len(c.params["text"]) <= 4096 for c in sent)
    assert [bool(c.buttons) for c in sent] == [False, False, True]
    assert "".join(c.params["text"] for c in sent).replace("\n", "") == text.replace("\n", "")
