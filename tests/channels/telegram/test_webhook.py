"""The webhook's answers: the secret, bad bodies, updates it leaves alone, and a database that is down."""

from __future__ import annotations

import logging
import warnings

import httpx
import pytest
from sqlalchemy import text

from bot.runtime import Services
from bot.store.models import Conversation, Message
from tests.channels.telegram.helpers import WEBHOOK_SECRET, count, deliver, post_update
from tests.fakes.telegram_api import FakeTelegram
from tests.support.db import assert_nothing_written

CHAT = 555_123_456


@pytest.mark.parametrize(
    "secret",
    [
        None,
        "",
        "wrong",
        WEBHOOK_SECRET[:-1],
        WEBHOOK_SECRET + "x",
        WEBHOOK_SECRET.upper(),
        "ü".encode("latin-1") + WEBHOOK_SECRET.encode(),
    ],
)
async def test_a_missing_or_wrong_secret_gets_401_and_reaches_nothing(
    client: httpx.AsyncClient, services: Services, telegram: FakeTelegram, secret: str | bytes | None
) -> None:
    headers = {} if secret is None else {"X-Telegram-Bot-Api-Secret-Token": secret}
    update = telegram.text_update(CHAT, "/start")
    response = await client.post("/telegram/webhook", json=update, headers=headers)
    assert response.status_code == 401
    assert "error" in response.json()
    await deliver(services)
    await assert_nothing_written(services)
    assert telegram.calls == []


async def test_the_secret_is_checked_before_the_body_is_read(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/telegram/webhook",
        content=b"not json at all",
        headers={"X-Telegram-Bot-Api-Secret-Token": "wrong", "content-type": "application/json"},
    )
    assert response.status_code == 401


async def test_bodies_that_are_not_updates_are_refused_clearly(
    client: httpx.AsyncClient, services: Services
) -> None:
    headers = {"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET, "content-type": "application/json"}
    for body in (b"not json", b"\xff\xfe", b"[1, 2]", b'{"message": {}}', b'{"update_id": "7"}'):
        response = await client.post("/telegram/webhook", content=body, headers=headers)
        assert response.status_code == 400, body
        assert "error" in response.json()
    response = await client.post("/telegram/webhook", content=b"x" * 300_000, headers=headers)
    assert response.status_code == 413
    await assert_nothing_written(services)


async def test_updates_it_cannot_or_need_not_handle_get_200_and_nothing_happens(
    client: httpx.AsyncClient, services: Services, telegram: FakeTelegram
) -> None:
    group = telegram.text_update(-1001234567890, "help me", chat_type="supergroup", from_id=CHAT)
    small_group = telegram.text_update(-4001234, "/start", chat_type="group", from_id=CHAT)
    channel_post = telegram.update(
        channel_post=telegram.message(-1009876543210, text="news", chat_type="channel")
    )
    edited = telegram.edited_update(CHAT, "edited words")
    unreadable = telegram.update(message={"text": "no chat, no date"})
    unknown_type = telegram.update(some_future_update={"id": 1, "chat": {"id": CHAT}, "text": "hi"})
    group_button = telegram.callback_update(
        -1001234567890, "main.menu:legal", message_id=3, chat_type="supergroup"
    )
    service_message = telegram.update(
        message=telegram.message(CHAT, message_auto_delete_timer_changed={"message_auto_delete_time": 86400})
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # aiogram warns about unknown types with the whole update in it
        for update in (
            group,
            small_group,
            channel_post,
            edited,
            unreadable,
            unknown_type,
            group_button,
            service_message,
        ):
            response = await post_update(client, update)
            assert response.status_code == 200, update
    await deliver(services)
    await assert_nothing_written(services)
    assert telegram.sent() == []


async def test_stickers_photos_and_voice_notes_get_a_short_helpful_answer(
    client: httpx.AsyncClient, services: Services, telegram: FakeTelegram
) -> None:
    for update in (telegram.sticker_update(CHAT), telegram.photo_update(CHAT), telegram.voice_update(CHAT)):
        response = await post_update(client, update)
        assert response.status_code == 200
    await deliver(services)
    sent = telegram.sent(CHAT)
    assert len([c for c in sent if "chỉ đọc được tin nhắn chữ" in c.params["text"]]) == 3
    assert await count(services, Message, Message.direction == "in") == 3


async def test_a_caption_is_read_as_text(
    client: httpx.AsyncClient, services: Services, telegram: FakeTelegram
) -> None:
    await post_update(client, telegram.photo_update(CHAT, caption="ban dam bi phat bao nhieu tien"))
    await deliver(services)
    assert "300.000" in " ".join(c.params["text"] for c in telegram.sent(CHAT))


async def test_an_old_button_opens_the_main_menu_with_a_note(
    client: httpx.AsyncClient, services: Services, telegram: FakeTelegram
) -> None:
    update = telegram.callback_update(CHAT, "main.menu:a-choice-removed-since", message_id=2)
    response = await post_update(client, update)
    assert response.status_code == 200
    await deliver(services)
    assert "Bạn cần hỗ trợ gì" in telegram.sent(CHAT)[-1].params["text"]
    answer = telegram.calls_of("answerCallbackQuery")[-1]
    assert answer.params["text"].startswith("Lựa chọn này đã cũ")


async def test_a_command_addressed_to_the_bot_by_name_is_understood(
    client: httpx.AsyncClient, services: Services, telegram: FakeTelegram
) -> None:
    await post_update(client, telegram.text_update(CHAT, "/menu@hotline_test_bot"))
    await deliver(services)
    assert "Bạn cần hỗ trợ gì" in telegram.sent(CHAT)[-1].params["text"]


async def test_a_database_that_is_down_gets_503_then_the_resent_update_is_answered_once(
    client: httpx.AsyncClient, services: Services, telegram: FakeTelegram
) -> None:
    update = telegram.text_update(CHAT, "/start")
    async with services.db.begin() as connection:
        await connection.execute(text("ALTER TABLE processed_messages RENAME TO processed_messages_away"))
    try:
        response = await post_update(client, update)
        assert response.status_code == 503
    finally:
        async with services.db.begin() as connection:
            await connection.execute(text("ALTER TABLE processed_messages_away RENAME TO processed_messages"))
    assert await count(services, Conversation) == 0, "nothing half-written"
    for _ in range(2):
        response = await post_update(client, update)
        assert response.status_code == 200
    await deliver(services)
    assert len([c for c in telegram.sent(CHAT) if c.buttons]) == 1


async def test_an_unreadable_update_is_logged_with_its_type_and_fields_never_ids_or_words(
    client: httpx.AsyncClient, services: Services, telegram: FakeTelegram, caplog: pytest.LogCaptureFixture
) -> None:
    """Issue 16: older shapes aiogram cannot read (no ``is_bot``, a number for an id) were dropped silently."""
    caplog.set_level(logging.DEBUG)
    old_shape = telegram.text_update(CHAT, "cứu em với bí mật")
    del old_shape["message"]["from"]["is_bot"]
    numeric_id = telegram.callback_update(CHAT, "main.menu:legal", message_id=2)
    numeric_id["callback_query"]["id"] = 987_654_321
    future = telegram.update(some_future_update={"id": CHAT, "text": "cứu em với bí mật"})
    for update in (old_shape, numeric_id, future):
        response = await post_update(client, update)
        assert response.status_code == 200
    logged = [r.getMessage() for r in caplog.records if r.name.startswith("bot.channels.telegram")]
    assert any("(message)" in m and "message.from.is_bot" in m for m in logged), logged
    assert any("(callback_query)" in m and "callback_query.id" in m for m in logged), logged
    assert any("unknown type (some_future_update)" in m for m in logged), logged
    for line in (caplog.text, *logged):
        assert str(CHAT) not in line and "bí mật" not in line and "987654321" not in line
    await deliver(services)
    await assert_nothing_written(services)


async def test_a_button_tap_without_its_message_still_stops_spinning(
    client: httpx.AsyncClient, services: Services, telegram: FakeTelegram
) -> None:
    """Issue 16: a tap on an inline message's button (or on one too old) comes without ``message``."""
    update = telegram.callback_update(CHAT, "main.menu:legal", message_id=2)
    query = update["callback_query"]
    del query["message"]
    query["inline_message_id"] = "AAAAAAAAAAAAAAAA"
    response = await post_update(client, update)
    assert response.status_code == 200
    answers = telegram.calls_of("answerCallbackQuery")
    assert [a.params["callback_query_id"] for a in answers] == [query["id"]]
    await deliver(services)
    await assert_nothing_written(services)
    assert telegram.sent() == []
