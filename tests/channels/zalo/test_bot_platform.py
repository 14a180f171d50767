"""The Zalo Bot door, walked as a person would, against a fake Zalo on loopback (SQLite and PostgreSQL)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import select

from bot.channels.zalo.bot_platform import ZaloBot
from bot.clock import FrozenClock
from bot.messages import Reply
from bot.runtime import Services
from bot.store.models import Conversation, Counsellor, Escalation, OutboxEvent
from tests.channels.zalo.conftest import (
    BOT_SECRET,
    DISPLAY_NAME,
    USER,
    bot_event,
    count,
    drain,
    post_bot,
)
from tests.fakes.zalo_api import FakeZalo
from tests.support.db import assert_nothing_written, dump_database


async def say(
    client: httpx.AsyncClient, services: Services, zalo: FakeZalo, text: str, message_id: str
) -> list[str]:
    """Write to the bot; what the person then receives."""
    before = len(zalo.bot_sent)
    response = await post_bot(client, bot_event(text, message_id=message_id))
    assert response.status_code == 200, response.text
    assert response.json() == {"ok": True}
    await drain(services)
    sent = zalo.bot_sent[before:]
    assert all(chat == USER for chat, _ in sent)
    return [text for _, text in sent]


async def test_a_whole_conversation_through_the_zalo_bot(
    client: httpx.AsyncClient, services: Services, zalo: FakeZalo, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    texts = await say(client, services, zalo, "/start", "m1")
    assert "ẩn danh" in texts[0]
    assert texts[-1].endswith("1. Tiếng Việt\n2. English"), "choices as a numbered list"

    texts = await say(client, services, zalo, "1", "m2")
    assert "Bạn cần hỗ trợ gì" in texts[-1] and "\n1. " in texts[-1], "the number chose Tiếng Việt"

    texts = await say(client, services, zalo, "ban dam bi phat bao nhieu tien", "m3")
    assert any("300.000" in t and "500.000" in t for t in texts)

    before = len(zalo.bot_sent)
    response = await post_bot(client, bot_event(message_id="m4", event="message.sticker.received"))
    assert response.status_code == 200
    await drain(services)
    assert "chỉ đọc được tin nhắn chữ" in zalo.bot_sent[before][1], "a sticker gets a short helpful answer"

    before = len(zalo.bot_sent)
    again = await post_bot(client, bot_event("ban dam bi phat bao nhieu tien", message_id="m3"))
    assert again.status_code == 200
    await drain(services)
    assert len(zalo.bot_sent) == before, "Zalo's retry of a message is answered once"

    assert await count(services, Conversation, Conversation.channel == "zalo") == 1
    dump = await dump_database(services)
    for raw in (USER, DISPLAY_NAME):
        assert raw not in dump, f"{raw!r} is stored in clear"
        assert raw not in caplog.text, f"{raw!r} was logged"


async def test_the_event_without_its_envelope_is_accepted_too(
    client: httpx.AsyncClient, services: Services, zalo: FakeZalo
) -> None:
    response = await post_bot(client, bot_event("PrEP là gì", message_id="n1", envelope=False))
    assert response.json() == {"ok": True}
    await drain(services)
    assert zalo.bot_sent and "PrEP" in " ".join(text for _, text in zalo.bot_sent)


async def nothing_processed(services: Services, zalo: FakeZalo) -> None:
    await assert_nothing_written(services)
    await drain(services)
    assert zalo.bot_sent == []


@pytest.mark.parametrize("secret", [None, "", "wrong-secret-0000", BOT_SECRET + "x", BOT_SECRET.upper()])
async def test_a_missing_or_wrong_secret_gets_401_and_nothing_is_processed(
    client: httpx.AsyncClient, services: Services, zalo: FakeZalo, secret: str | None
) -> None:
    response = await post_bot(client, bot_event("cuu em voi", message_id="x1"), secret=secret)
    assert response.status_code == 401
    await nothing_processed(services, zalo)


async def test_group_chats_and_bots_are_ignored(
    client: httpx.AsyncClient, services: Services, zalo: FakeZalo
) -> None:
    response = await post_bot(client, bot_event("HIV lây thế nào", message_id="g1", chat_type="GROUP"))
    assert response.status_code == 200 and response.json()["ignored"] == "group chats are not answered"
    event = bot_event("hello", message_id="b1")
    event["result"]["message"]["from"]["is_bot"] = True
    assert (await post_bot(client, event)).json()["ignored"] == "sent by a bot"
    await nothing_processed(services, zalo)


async def test_malformed_unknown_and_huge_requests_are_refused_clearly_never_500(
    client: httpx.AsyncClient, services: Services, zalo: FakeZalo
) -> None:
    headers = {"X-Bot-Api-Secret-Token": BOT_SECRET, "Content-Type": "application/json"}
    response = await client.post("/zalo/webhook", content=b'{"ok": true, "result": {', headers=headers)
    assert response.status_code == 400 and response.json() == {"error": "the body must be JSON"}
    for body, reason in (
        ([1, 2, 3], "not an event"),
        ({"ok": False, "error_code": 500}, "not an event"),
        ({"event_name": "bot.added.to.group"}, "not a message event"),
        ({"event_name": "user.follow", "message": {}}, "event not handled"),
        (bot_event("   ", message_id="e1"), "empty text"),
    ):
        response = await post_bot(client, body)
        assert response.status_code == 200 and response.json()["ignored"] == reason, body
    huge = b'{"event_name": "message.text.received", "message": {"text": "' + b"a" * 20_000_000 + b'"}}'
    response = await client.post("/zalo/webhook", content=huge, headers=headers)
    assert response.status_code == 413

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: refused while reading
        for _ in range(20):
            yield b"a" * 1_000_000

    response = await client.post("/zalo/webhook", content=chunks(), headers=headers)
    assert response.status_code == 413
    await nothing_processed(services, zalo)


async def test_a_long_reply_is_split_under_zalos_limit(services: Services, zalo: FakeZalo) -> None:
    channel = services.channels["zalo"]
    assert isinstance(channel, ZaloBot)
    text = "\n\n".join(f"Đoạn {i}: " + "thông tin về PEP trong 72 giờ. " * 20 for i in range(12))
    await channel.send(USER, [Reply(text)])
    parts = [t for _, t in zalo.bot_sent]
    assert len(parts) > 1 and all(len(p) <= 2000 for p in parts)
    assert " ".join(" ".join(parts).split()) == " ".join(text.split())


async def test_rate_limits_wait_and_a_refused_chat_is_given_up(
    client: httpx.AsyncClient, services: Services, zalo: FakeZalo, clock: FrozenClock
) -> None:
    zalo.fail("sendMessage", status=429, body={"ok": False, "error_code": 429, "description": "Too Many Requests",
                                               "parameters": {"retry_after": 7}})  # fmt: skip
    await post_bot(client, bot_event("PrEP là gì", message_id="r1"))
    await drain(services)
    assert zalo.bot_sent == []
    clock.advance(seconds=7)
    await drain(services)
    assert any("PrEP" in text for _, text in zalo.bot_sent), "sent once the wait is over"

    zalo.fail(
        "sendMessage",
        status=403,
        body={"ok": False, "error_code": 403, "description": "Forbidden: blocked by user"},
    )
    await post_bot(client, bot_event("PEP là gì", message_id="r2"))
    await drain(services)
    async with services.sessionmaker() as session:
        last = (await session.execute(select(OutboxEvent).order_by(OutboxEvent.id.desc()))).scalars().first()
        assert last is not None and last.status == "dead" and "403" in (last.last_error or "")


async def test_a_counsellor_takes_over_and_talks_through_the_bot(
    client: httpx.AsyncClient, services: Services, zalo: FakeZalo
) -> None:
    texts = await say(client, services, zalo, "cuu em voi, ck dang danh em", "t1")
    assert any("113" in t for t in texts), "the emergency answer comes at once"
    async with services.sessionmaker() as session, session.begin():
        counsellor = Counsellor(display_name="Lan", active=True, created_at=services.clock.now())
        session.add(counsellor)
        await session.flush()
        counsellor_id = counsellor.id
        escalation_id = (await session.execute(select(Escalation.id))).scalar_one()
    assert (await services.desk.take(escalation_id, counsellor_id, via="console")).taken
    await services.desk.reply(escalation_id, counsellor_id, "Chị là Lan. Em đang ở đâu?")
    await drain(services)
    assert any("Em đang ở đâu?" in text for _, text in zalo.bot_sent)
    quiet = await say(client, services, zalo, "em o nha nghi", "t2")
    assert quiet == [], "held by a counsellor: the bot stays quiet and relays"
