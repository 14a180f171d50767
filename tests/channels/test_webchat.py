"""The web chat API, walked as a person would, on SQLite and PostgreSQL."""

from __future__ import annotations

import secrets
from typing import Any

import httpx
from sqlalchemy import select

from bot.runtime import Services
from bot.store.models import Contact, Conversation, Message, OutboxEvent, ProcessedMessage
from tests.support.db import count


def new_session() -> str:
    return secrets.token_hex(16)


async def post(client: httpx.AsyncClient, **body: Any) -> dict[str, Any]:
    response = await client.post("/api/webchat", json=body)
    assert response.status_code == 200, response.text
    return response.json()


def choice_id(data: dict[str, Any], label_part: str) -> str:
    for reply in data["replies"]:
        for choice in reply["choices"]:
            if label_part.lower() in choice["label"].lower():
                return str(choice["id"])
    raise AssertionError(f"no choice like {label_part!r} in {data}")


async def test_whole_conversation_welcome_menu_legal_question_feedback_delete(
    client: httpx.AsyncClient, services: Services
) -> None:
    session = new_session()
    data = await post(client, session=session, event="start")
    texts = " ".join(r["text"] for r in data["replies"])
    assert "ẩn danh" in texts and "không lưu" in texts  # what is kept and what is not
    data = await post(client, session=session, choice=choice_id(data, "Tiếng Việt"))
    assert "Bạn cần hỗ trợ gì" in data["replies"][-1]["text"]
    data = await post(client, session=session, choice=choice_id(data, "pháp luật"))
    assert data["replies"][-1]["choices"], "the legal menu lists its articles"

    data = await post(client, session=session, text="ban dam bi phat bao nhieu tien")
    answer = data["replies"][0]["text"]
    assert "300.000" in answer and "500.000" in answer
    data = await post(client, session=session, choice=choice_id(data, "Có, cảm ơn"))
    assert "Cảm ơn" in data["replies"][0]["text"]

    async with services.sessionmaker() as db:
        contact = (await db.execute(select(Contact))).scalar_one()
        assert contact.helpful is True
        assert "legal" in contact.topics
        assert "selling-sex-law" in contact.articles
        assert contact.channel == "webchat"
    assert await count(services, Message) >= 8

    data = await post(client, session=session, text="xóa")
    data = await post(client, session=session, choice=choice_id(data, "Xóa ngay"))
    assert "Đã xóa" in data["replies"][0]["text"]
    assert await count(services, Conversation) == 0
    assert await count(services, Message) == 0
    assert await count(services, Contact) == 1, "statistics stay, without content"


async def test_english_speaker_is_answered_in_english(client: httpx.AsyncClient) -> None:
    data = await post(client, session=new_session(), text="what is the fine for selling sex?")
    texts = " ".join(r["text"] for r in data["replies"])
    assert "administrative offence" in texts
    assert data["locale"] == "en"


async def test_same_message_id_twice_gives_one_reply_and_one_transcript_row(
    client: httpx.AsyncClient, services: Services
) -> None:
    session = new_session()
    first = await post(client, session=session, text="PrEP là gì", id="m-1")
    rows_after_first = await count(services, Message)
    second = await post(client, session=session, text="PrEP là gì", id="m-1")
    assert second["duplicate"] is True
    assert second["replies"] == first["replies"], "the retry gets the same answer back"
    assert await count(services, Message) == rows_after_first
    assert await count(services, ProcessedMessage) == 1
    assert await count(services, Contact) == 1


async def test_bad_input_is_refused_clearly_and_writes_nothing(
    client: httpx.AsyncClient, services: Services
) -> None:
    session = new_session()
    cases = [
        (b"not json", 400),
        (b'["a list"]', 422),
        (b'{"text": "no session"}', 422),
        (b'{"session": "short", "text": "hi"}', 422),
        (('{"session": "%s"}' % session).encode(), 422),
        (('{"session": "%s", "text": "a", "choice": "b"}' % session).encode(), 422),
        (('{"session": "%s", "text": 5}' % session).encode(), 422),
        (('{"session": "%s", "text": "   "}' % session).encode(), 422),
        (('{"session": "%s", "choice": "main.menu:nonexistent"}' % session).encode(), 422),
        (('{"session": "%s", "choice": "a:no-such-article"}' % session).encode(), 422),
        (('{"session": "%s", "event": "explode"}' % session).encode(), 422),
    ]
    for body, status in cases:
        response = await client.post(
            "/api/webchat", content=body, headers={"content-type": "application/json"}
        )
        assert response.status_code == status, (body, response.text)
        assert "error" in response.json()
    big = "a" * 5000
    response = await client.post("/api/webchat", json={"session": session, "text": big})
    assert response.status_code == 413
    response = await client.post("/api/webchat", json={"session": session, "text": "x" * 1_000_000})
    assert response.status_code == 413
    for model in (Conversation, Message, Contact, OutboxEvent, ProcessedMessage):
        assert await count(services, model) == 0, model


async def test_twenty_megabytes_are_refused_before_reading(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/webchat", content=b"x" * (20 * 1024 * 1024), headers={"content-type": "application/json"}
    )
    assert response.status_code == 413


async def test_emoji_only_message_gets_a_helpful_reply(client: httpx.AsyncClient) -> None:
    data = await post(client, session=new_session(), text="😭😭🙏")
    texts = " ".join(r["text"] for r in data["replies"])
    assert "Bạn gõ vài chữ" in texts and "chỉ đọc được" not in texts  # never "I can only read text"
    assert data["replies"][-1]["choices"], "and the menu is offered again"


async def test_page_is_served_without_cookies(client: httpx.AsyncClient) -> None:
    response = await client.get("/")
    assert response.status_code == 200
    assert "chat.js" in response.text
    assert "set-cookie" not in response.headers
    assert response.headers["cache-control"] == "no-store"


async def test_messages_are_served_past_the_router_and_other_methods_still_get_405(
    client: httpx.AsyncClient, services: Services
) -> None:
    from bot.http.direct import DirectRoutes

    app = client._transport.app  # type: ignore[attr-defined]
    stack = app.build_middleware_stack()
    while not isinstance(stack, DirectRoutes):
        stack = stack.app
    assert ("POST", "/api/webchat") in stack.routes
    assert (await client.get("/api/webchat")).status_code == 405
    data = await post(client, session=new_session(), text="xin chào")
    assert data["replies"] and data["duplicate"] is False
    schema = (await client.get("/openapi.json")).json()
    assert "post" in schema["paths"]["/api/webchat"]
