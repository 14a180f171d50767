"""The Messenger door, walked as a person would, against a fake Graph API on loopback (SQLite and
PostgreSQL)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from types import SimpleNamespace

import httpx
import pytest
from sqlalchemy import select

from bot.channels.messenger import MAX_QUICK_REPLIES, Messenger, build, messages
from bot.clock import FrozenClock
from bot.errors import ConfigError
from bot.messages import Choice, Reply
from bot.outbox.dispatcher import Hold
from bot.runtime import Services
from bot.settings import Settings
from bot.store.models import Conversation, Escalation, OutboxEvent
from tests.channels.messenger.conftest import (
    APP_SECRET,
    OTHER_PSID,
    PSID,
    VERIFY_TOKEN,
    RecordingPager,
    attachment,
    count,
    drain,
    page,
    post,
    postback,
    quick_reply,
    text,
)
from tests.fakes.graph_api import FakeGraph
from tests.support.db import assert_nothing_written, dump_database

EMERGENCY = "cuu em voi, ck dang danh em"


async def say(client: httpx.AsyncClient, services: Services, graph: FakeGraph, *items: dict) -> list[str]:
    """Post one webhook call; what the person then receives."""
    before = len(graph.sent)
    response = await post(client, page(*items))
    assert response.status_code == 200, response.text
    await drain(services)
    sent = graph.sent[before:]
    assert all(s.psid == PSID for s in sent)
    return [s.text for s in sent]


async def nothing_processed(services: Services, graph: FakeGraph) -> None:
    await assert_nothing_written(services)
    await drain(services)
    assert graph.sent == []


# -- the handshake and the refusals ----------------------------------------------------------------------


async def test_the_verify_handshake_answers_the_challenge_only_to_the_right_token(
    client: httpx.AsyncClient, services: Services
) -> None:
    query = {"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1158201444"}
    response = await client.get("/messenger/webhook", params=query)
    assert response.status_code == 200 and response.text == "1158201444"
    assert response.headers["content-type"].startswith("text/plain")
    for wrong in (
        query | {"hub.verify_token": VERIFY_TOKEN + "x"},
        query | {"hub.verify_token": ""},
        query | {"hub.mode": "unsubscribe"},
        {"hub.challenge": "1158201444"},
    ):
        response = await client.get("/messenger/webhook", params=wrong)
        assert response.status_code == 403 and "1158201444" not in response.text


@pytest.mark.parametrize(
    "header",
    ["", "sha256=" + "0" * 64, "sha1=abc", "sha256=", "wrong-secret"],
    ids=["missing", "zeros", "sha1", "empty", "other-secret"],
)
async def test_a_missing_or_wrong_signature_gets_401_and_nothing_is_written(
    client: httpx.AsyncClient, services: Services, graph: FakeGraph, header: str
) -> None:
    body = page(text(EMERGENCY, mid="s1"))
    if header == "wrong-secret":
        response = await post(client, body, secret=APP_SECRET + "x")
    else:
        response = await post(client, body, header=header)
    assert response.status_code == 401
    await nothing_processed(services, graph)


async def test_not_json_is_400_and_too_large_is_413_and_nothing_is_written(
    client: httpx.AsyncClient, services: Services, graph: FakeGraph
) -> None:
    response = await post(client, b'{"object": "page", "entry": [')
    assert response.status_code == 400 and response.json() == {"error": "the body must be JSON"}
    huge = b'{"object": "page", "entry": [], "x": "' + b"a" * 2_000_000 + b'"}'
    assert (await post(client, huge)).status_code == 413

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: refused while reading
        for _ in range(8):
            yield b"a" * 100_000

    headers = {"X-Hub-Signature-256": "sha256=" + "0" * 64, "Content-Type": "application/json"}
    response = await client.post("/messenger/webhook", content=chunks(), headers=headers)
    assert response.status_code == 413
    await nothing_processed(services, graph)


async def test_receipts_echoes_reactions_and_other_objects_are_ignored_with_a_reason(
    client: httpx.AsyncClient, services: Services, graph: FakeGraph, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot.channels.messenger")
    base = {"sender": {"id": PSID}, "recipient": {"id": "1"}, "timestamp": 1}
    cases = [
        (
            page(base | {"message": {"mid": "e1", "text": "hi", "is_echo": True}}),
            "the echo of the page's own message",
        ),
        (page(base | {"delivery": {"mids": ["e1"], "watermark": 1}}), "a delivery receipt"),
        (page(base | {"read": {"watermark": 1}}), "a read receipt"),
        (page(base | {"reaction": {"mid": "e1", "action": "react", "emoji": "❤"}}), "a reaction"),
        (page(base | {"optin": {"ref": "x"}}), "event not handled"),
        (page({"recipient": {"id": "1"}, "message": {"mid": "e2", "text": "hi"}}), "no sender"),
        (page(text("hello", mid="e3"), object_="instagram"), "not a page event"),
        ({"object": "page", "entry": [{"id": "1", "standby": [text("hi", mid="e4")]}]}, None),
        ([1, 2, 3], "not a page event"),
    ]
    for body, reason in cases:
        response = await post(client, body)
        assert response.status_code == 200, body
        assert response.json().get("ignored") == reason, body
        if reason:
            assert reason in caplog.text
    await nothing_processed(services, graph)
    assert PSID not in caplog.text


# -- a whole conversation --------------------------------------------------------------------------------


async def test_a_whole_conversation_through_messenger(
    client: httpx.AsyncClient,
    services: Services,
    graph: FakeGraph,
    rota: dict[str, int],
    telegram_pager: RecordingPager,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    texts = await say(client, services, graph, postback("GET_STARTED", mid="p1"))
    assert "ẩn danh" in texts[0]
    language = graph.sent[-1].quick_replies
    assert [q["title"] for q in language] == ["Tiếng Việt", "English"], "choices as quick replies"

    texts = await say(client, services, graph, quick_reply("Tiếng Việt", language[0]["payload"], mid="m2"))
    assert "Bạn cần hỗ trợ gì" in texts[-1]
    assert "\n1. " in texts[-1] and graph.sent[-1].quick_replies == [], (
        "a label longer than Meta shows in full: numbered text instead"
    )

    texts = await say(client, services, graph, text("ban dam bi phat bao nhieu tien", mid="m3"))
    assert any("300.000" in t and "500.000" in t for t in texts)

    texts = await say(client, services, graph, text("ban dam bi phat bao nhieu tien", mid="m3"))
    assert texts == [], "Meta's retry of a message is answered once"

    texts = await say(client, services, graph, attachment(mid="m4"))
    assert "chỉ đọc được tin nhắn chữ" in texts[0], "a photo gets a short helpful answer"

    texts = await say(client, services, graph, text(EMERGENCY, mid="m5"))
    assert any("113" in t for t in texts), "the emergency answer comes at once"
    assert "1001" in [address for address, _ in telegram_pager.pages], "the on-call counsellor is paged"
    async with services.sessionmaker() as session:
        escalation_id = (await session.execute(select(Escalation.id))).scalar_one()
    assert (await services.desk.take(escalation_id, rota["Lan"], via="console")).taken
    await services.desk.reply(escalation_id, rota["Lan"], "Chị là Lan. Em đang ở đâu?")
    await drain(services)
    assert any("Em đang ở đâu?" in t for t in graph.texts(PSID)), "the counsellor's reply is relayed"
    assert graph.sent[-1].messaging_type == "RESPONSE"

    texts = await say(client, services, graph, text("em o nha nghi", mid="m6"))
    assert texts == [], "held by a counsellor: the bot stays quiet and relays"
    lines = await services.desk.transcript(escalation_id, rota["Lan"], staff_id=None)
    assert any("nha nghi" in line for _, line, _ in lines)

    await services.desk.close(escalation_id, rota["Lan"], "safe")
    await drain(services)
    assert any("kết thúc" in t for t in graph.texts(PSID)), "the person is told the counsellor left"
    texts = await say(client, services, graph, text("PrEP là gì", mid="m7"))
    assert texts, "back to the bot"

    assert await count(services, Conversation, Conversation.channel == "messenger") == 1
    dump = await dump_database(services)
    assert PSID not in dump, "the PSID is stored in clear"
    assert PSID not in caplog.text, "the PSID was logged"
    # httpx's own lines carry the URL (and so the token, Meta's documented way to pass it): bot/logs.py
    # keeps the httpx and httpcore loggers at WARNING; nothing of ours may carry it.
    ours = [r.getMessage() for r in caplog.records if not r.name.startswith(("httpx", "httpcore"))]
    assert not any(graph.page_token in line for line in ours), "the page token was logged"


async def test_deleting_the_conversation_is_confirmed_and_leaves_no_trace(
    client: httpx.AsyncClient, services: Services, graph: FakeGraph
) -> None:
    await say(client, services, graph, text("PrEP là gì", mid="d1"))
    await say(client, services, graph, text("xóa", mid="d2"))
    buttons = {q["title"]: q["payload"] for q in graph.sent[-1].quick_replies}
    texts = await say(client, services, graph, quick_reply("Xóa ngay", buttons["Xóa ngay"], mid="d3"))
    assert len(texts) == 1 and "Đã xóa" in texts[0], "the confirmation reaches the person"
    assert await count(services, Conversation) == 0


async def test_a_typed_number_or_label_chooses_too(
    client: httpx.AsyncClient, services: Services, graph: FakeGraph
) -> None:
    await say(client, services, graph, postback("GET_STARTED", mid="t1"))
    texts = await say(client, services, graph, text("English", mid="t2"))
    assert texts[-1].startswith("How can we help?"), "the typed label chose English"
    assert "\n1. " in texts[-1], "the menu's labels are too long for quick replies: numbered"
    texts = await say(client, services, graph, text("1", mid="t3"))
    assert texts[0].startswith("HIV and sexually transmitted infections."), "the number chose the first item"


async def test_an_unknown_postback_or_stale_quick_reply_is_answered_200_and_nothing_breaks(
    client: httpx.AsyncClient, services: Services, graph: FakeGraph
) -> None:
    response = await post(client, page(postback("no.such:choice", mid="u1")))
    assert response.status_code == 200 and response.json()["ignored"] == "unknown choice id"


# -- the 24-hour window ----------------------------------------------------------------------------------


async def _counsellor_holds(
    client: httpx.AsyncClient, services: Services, graph: FakeGraph, rota: dict[str, int]
) -> int:
    await say(client, services, graph, text(EMERGENCY, mid="w1"))
    async with services.sessionmaker() as session:
        escalation_id = (await session.execute(select(Escalation.id))).scalar_one()
    assert (await services.desk.take(escalation_id, rota["Lan"], via="console")).taken
    await drain(services)
    return escalation_id


async def test_a_reply_after_24_hours_waits_and_the_counsellor_is_told_then_goes_when_the_person_writes(
    client: httpx.AsyncClient, services: Services, graph: FakeGraph, rota: dict[str, int], clock: FrozenClock
) -> None:
    escalation_id = await _counsellor_holds(client, services, graph, rota)
    clock.advance(seconds=25 * 3600)
    before = len(graph.sent)
    await services.desk.reply(escalation_id, rota["Lan"], "Em ổn không?")
    await drain(services)
    assert len(graph.sent) == before, "not sent outside the 24-hour window"
    async with services.sessionmaker() as session:
        held = (
            (await session.execute(select(OutboxEvent).where(OutboxEvent.status == "held"))).scalars().all()
        )
        assert [e.kind for e in held] == ["deliver"] and held[0].last_error == "messenger_window"
    lines = await services.desk.transcript(escalation_id, rota["Lan"], staff_id=None)
    assert any("24 giờ" in line and "đang chờ" in line for _, line, _ in lines), "the counsellor sees why"

    await say(client, services, graph, text("em day", mid="w2"))
    assert graph.texts(PSID)[-1].endswith("Em ổn không?"), "the person wrote: the waiting reply goes"
    assert graph.sent[-1].messaging_type == "RESPONSE"


async def test_with_the_human_agent_tag_a_reply_goes_within_7_days_tagged(
    client: httpx.AsyncClient, services: Services, graph: FakeGraph, rota: dict[str, int], clock: FrozenClock
) -> None:
    channel = services.channels["messenger"]
    assert isinstance(channel, Messenger)
    channel._human_agent_tag = True  # HOTLINE_MESSENGER_HUMAN_AGENT_TAG=true
    escalation_id = await _counsellor_holds(client, services, graph, rota)
    clock.advance(seconds=3 * 24 * 3600)
    await services.desk.reply(escalation_id, rota["Lan"], "Chị gọi lại được không?")
    await drain(services)
    last = graph.sent[-1]
    assert last.text.endswith("Chị gọi lại được không?")
    assert (last.messaging_type, last.tag) == ("MESSAGE_TAG", "HUMAN_AGENT")
    with pytest.raises(Hold):  # Meta allows the tag for a person's words only, never the bot's
        await channel.send(PSID, [Reply("Chưa liên lạc được tư vấn viên.")])

    clock.advance(seconds=5 * 24 * 3600)  # 8 days after the person's last message
    before = len(graph.sent)
    await services.desk.reply(escalation_id, rota["Lan"], "Em còn đó không?")
    await drain(services)
    assert len(graph.sent) == before, "past 7 days not even the tag allows it: it waits"
    assert await count(services, OutboxEvent, OutboxEvent.status == "held") == 1


async def test_when_meta_says_the_window_is_closed_the_message_waits(
    client: httpx.AsyncClient, services: Services, graph: FakeGraph
) -> None:
    graph.fail_send(400, 10, "(#10) This message is sent outside of allowed window.", subcode=2018278)
    await say(client, services, graph, text("PrEP là gì", mid="x1"))
    assert await count(services, OutboxEvent, OutboxEvent.status == "held") == 1


# -- delivery errors -------------------------------------------------------------------------------------


async def test_a_5xx_is_retried_then_delivered(
    client: httpx.AsyncClient, services: Services, graph: FakeGraph, clock: FrozenClock
) -> None:
    graph.fail_send(500, 1200, "Temporary send message failure. Please try again later.", times=2)
    await say(client, services, graph, text("PrEP là gì", mid="r1"))
    assert graph.sent == []
    for _ in range(2):
        clock.advance(seconds=10)
        await drain(services)
    assert any("PrEP" in t for t in graph.texts(PSID)), "delivered once Meta takes it"
    async with services.sessionmaker() as session:
        event = (await session.execute(select(OutboxEvent))).scalar_one()
        assert event.status == "done" and event.attempts == 3


async def test_a_person_who_cannot_be_reached_is_given_up_without_their_id(
    client: httpx.AsyncClient, services: Services, graph: FakeGraph
) -> None:
    graph.fail_send(400, 551, f"This person isn't available right now ({PSID}).")
    await say(client, services, graph, text("PrEP là gì", mid="g1"))
    async with services.sessionmaker() as session:
        event = (await session.execute(select(OutboxEvent))).scalar_one()
    assert event.status == "dead" and "551" in (event.last_error or "")
    assert PSID not in (event.last_error or "")


async def test_a_refused_page_token_keeps_the_message_for_when_it_is_fixed(
    client: httpx.AsyncClient, services: Services, graph: FakeGraph, clock: FrozenClock
) -> None:
    graph.fail_send(400, 190, "Invalid OAuth access token.")
    await say(client, services, graph, text(EMERGENCY, mid="k1"))
    assert graph.sent == []
    clock.advance(seconds=300)
    await drain(services)
    assert any("113" in t for t in graph.texts(PSID)), "the emergency answer is not lost"


# -- rendering -------------------------------------------------------------------------------------------


def test_too_many_or_too_long_choices_become_a_numbered_list_and_long_texts_are_split() -> None:
    many = Reply("Chọn:", tuple(Choice(f"n:{i}", f"Mục {i}") for i in range(MAX_QUICK_REPLIES + 1)))
    out = messages([many])
    assert "quick_replies" not in out[-1] and f"{MAX_QUICK_REPLIES + 1}. Mục" in out[-1]["text"]
    few = Reply("Chọn:", (Choice("n:1", "Có"), Choice("n:2", "Không")))
    out = messages([Reply("Bài liên quan", (Choice("a:x", "PEP"),)), few])
    assert out[0]["text"].endswith("• PEP"), "earlier lists are bullets"
    assert [q["payload"] for q in out[-1]["quick_replies"]] == ["n:1", "n:2"]
    assert "quick_replies" not in messages([few], quick_replies=False)[-1]
    long = "\n\n".join(f"Đoạn {i}: " + "thông tin về PEP trong 72 giờ 💊. " * 20 for i in range(12))
    parts = [m["text"] for m in messages([Reply(long)])]
    assert len(parts) > 1 and all(len(p.encode("utf-16-le")) // 2 <= 2000 for p in parts)
    assert " ".join(" ".join(parts).split()) == " ".join(long.split())


async def test_two_people_in_one_call_are_both_answered(
    client: httpx.AsyncClient, services: Services, graph: FakeGraph
) -> None:
    response = await post(
        client, page(text("PrEP là gì", mid="a1"), text("PEP là gì", mid="a2", psid=OTHER_PSID))
    )
    assert response.status_code == 200
    await drain(services)
    assert {s.psid for s in graph.sent} == {PSID, OTHER_PSID}


def test_half_a_configuration_stops_the_start_and_none_leaves_the_channel_off(settings: Settings) -> None:
    half = settings.model_copy(update={"messenger_verify_token": None})
    with pytest.raises(ConfigError, match="HOTLINE_MESSENGER_VERIFY_TOKEN"):
        build(SimpleNamespace(settings=half), store=None)  # type: ignore[arg-type]
    off = settings.model_copy(
        update={"messenger_page_token": None, "messenger_app_secret": None, "messenger_verify_token": None}
    )
    assert build(SimpleNamespace(settings=off), store=None) is None  # type: ignore[arg-type]
