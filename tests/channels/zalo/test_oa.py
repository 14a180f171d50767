"""The Zalo Official Account door: signed webhooks in, customer-service messages out (fake Zalo on loopback)."""

from __future__ import annotations

import logging
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from bot.clock import FrozenClock
from bot.runtime import Services
from bot.store.models import Contact, Conversation, Message, ProcessedMessage
from tests.channels.zalo.conftest import USER, count, drain, oa_event, post_oa
from tests.fakes.zalo_api import FakeZalo
from tests.support.db import assert_nothing_written, dump_database


class Person:
    """Someone writing to the OA: each message signed and timed as Zalo sends it."""

    def __init__(
        self, client: httpx.AsyncClient, services: Services, zalo: FakeZalo, clock: FrozenClock
    ) -> None:
        self.client, self.services, self.zalo, self.clock = client, services, zalo, clock
        self.n = 0

    def event(self, text: str | None, **kwargs: Any) -> dict[str, Any]:
        self.n += 1
        return oa_event(text, msg_id=f"msg-{self.n}", clock=self.clock, app_id=self.zalo.app_id, **kwargs)

    async def say(self, text: str | None, **kwargs: Any) -> list[str]:
        """Write; what the person then receives."""
        before = len(self.zalo.oa_sent)
        response = await post_oa(self.client, self.event(text, **kwargs), app_id=self.zalo.app_id)
        assert response.status_code == 200, response.text
        await drain(self.services)
        sent = self.zalo.oa_sent[before:]
        assert all(user == USER for user, _ in sent)
        return [text for _, text in sent]


@pytest.fixture
def person(client: httpx.AsyncClient, services: Services, zalo: FakeZalo, clock: FrozenClock) -> Person:
    return Person(client, services, zalo, clock)


async def test_a_whole_conversation_through_the_official_account(
    person: Person, services: Services, zalo: FakeZalo, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    (text,) = await person.say("/start")
    assert "ẩn danh" in text and text.endswith("1. Tiếng Việt\n2. English"), "one packed message per batch"
    (text,) = await person.say("1")
    assert "Bạn cần hỗ trợ gì" in text
    (text,) = await person.say("ban dam bi phat bao nhieu tien")
    assert "300.000" in text and "500.000" in text
    (text,) = await person.say(None, event="user_send_sticker")
    assert "chỉ đọc được tin nhắn chữ" in text

    sent = [c for c in zalo.calls if c.path == "/v3.0/oa/message/cs"]
    assert all(c.headers["access_token"] == "access-0" for c in sent)
    assert all(c.json()["recipient"] == {"user_id": USER} for c in sent)
    assert await count(services, Conversation, Conversation.channel == "zalo_oa") == 1
    dump = await dump_database(services)
    assert USER not in dump, "the Zalo user id is stored in clear"
    assert USER not in caplog.text, "the Zalo user id was logged"


async def test_a_retried_event_is_answered_once(person: Person, zalo: FakeZalo, services: Services) -> None:
    event = person.event("PrEP là gì")
    for _ in range(2):
        assert (await post_oa(person.client, event, app_id=zalo.app_id)).status_code == 200
    await drain(services)
    assert len(zalo.oa_sent) == 1


async def nothing_processed(services: Services, zalo: FakeZalo) -> None:
    await assert_nothing_written(services)
    assert zalo.oa_sent == []


async def test_a_bad_or_missing_signature_gets_401_and_nothing_is_processed(
    person: Person, services: Services, zalo: FakeZalo
) -> None:
    event = person.event("cuu em voi")
    for mac in ("", "mac=", "mac=" + "0" * 64, "sha256=abc"):
        response = await post_oa(person.client, event, app_id=zalo.app_id, mac=mac)
        assert response.status_code == 401, mac
    wrong_key = await post_oa(person.client, event, app_id=zalo.app_id, key="not-the-oa-secret-key")
    assert wrong_key.status_code == 401
    other_app = await post_oa(person.client, event, app_id="1111")
    assert other_app.status_code == 401, "signed for another app id"
    no_header = await person.client.post("/zalo-oa/webhook", json=event)
    assert no_header.status_code == 401
    await drain(services)
    await nothing_processed(services, zalo)


@pytest.mark.parametrize("minutes", [-6, 6, -60 * 24])
async def test_a_stale_or_future_timestamp_gets_403_and_nothing_is_processed(
    person: Person, services: Services, zalo: FakeZalo, clock: FrozenClock, minutes: int
) -> None:
    event = person.event("cuu em voi")  # signed correctly, but sent (or replayed) at another time
    clock.advance(minutes=minutes)
    response = await post_oa(person.client, event, app_id=zalo.app_id)
    assert response.status_code == 403
    await drain(services)
    await nothing_processed(services, zalo)


async def test_other_events_are_acknowledged_and_ignored(
    person: Person, services: Services, zalo: FakeZalo
) -> None:
    for name in ("follow", "user_seen_message", "oa_send_text", "user_received_message"):
        response = await post_oa(person.client, person.event("echo", event=name), app_id=zalo.app_id)
        assert response.status_code == 200 and response.json()["ignored"] == "event not handled", name
    response = await post_oa(person.client, person.event("  "), app_id=zalo.app_id)
    assert response.json()["ignored"] == "empty text"
    await drain(services)
    await nothing_processed(services, zalo)


async def test_malformed_and_huge_bodies_are_refused_clearly(
    person: Person, services: Services, zalo: FakeZalo
) -> None:
    headers = {"X-ZEvent-Signature": "mac=00", "Content-Type": "application/json"}
    response = await person.client.post("/zalo-oa/webhook", content=b'{"event_name": ', headers=headers)
    assert response.status_code == 400 and response.json() == {"error": "the body must be JSON"}
    response = await person.client.post("/zalo-oa/webhook", content=b"[1, 2]", headers=headers)
    assert response.status_code == 400
    response = await person.client.post(
        "/zalo-oa/webhook", content=b"{" + b" " * 20_000_000 + b"}", headers=headers
    )
    assert response.status_code == 413
    await nothing_processed(services, zalo)


async def test_zalo_checking_the_webhook_url_with_an_unsigned_empty_body_gets_200(
    person: Person, services: Services, zalo: FakeZalo, caplog: pytest.LogCaptureFixture
) -> None:
    """Issue 16: Zalo checks a webhook URL with an unsigned ``{}``; 401 would keep the URL from being saved."""
    caplog.set_level(logging.INFO)
    for headers in ({}, {"X-ZEvent-Signature": "mac=00"}):
        for body in (b"{}", b'{"app_id": "1234", "timestamp": "1"}'):
            response = await person.client.post(
                "/zalo-oa/webhook", content=body, headers={"Content-Type": "application/json", **headers}
            )
            assert response.status_code == 200, (body, headers)
            assert response.json() == {"ok": True, "ignored": "not an event"}
    assert "checking the webhook URL" in caplog.text
    unsigned = await person.client.post("/zalo-oa/webhook", json=person.event("cuu em voi"))
    assert unsigned.status_code == 401, "anything carrying an event is still signature-checked"
    wrong = await post_oa(
        person.client, person.event(None, event="user_withdraw"), app_id=zalo.app_id, mac="mac=0"
    )
    assert wrong.status_code == 401
    await drain(services)
    await nothing_processed(services, zalo)


async def test_user_withdraw_deletes_the_persons_conversation_transcript_and_address(
    person: Person, services: Services, zalo: FakeZalo, caplog: pytest.LogCaptureFixture
) -> None:
    """Issue 16: Zalo's ``user_withdraw`` (the person asks partners to delete their data) was ignored."""
    caplog.set_level(logging.DEBUG)
    await person.say("/start")
    await person.say("PrEP là gì")
    other = oa_event("hi", msg_id="other-1", clock=person.clock, app_id=zalo.app_id, user="2468013579")
    assert (await post_oa(person.client, other, app_id=zalo.app_id)).status_code == 200
    await drain(services)
    assert await count(services, Conversation) == 2
    before = await count(services, Message)
    held = await count(services, Contact)

    event = person.event(None, event="user_withdraw")
    del event["message"]
    response = await post_oa(person.client, event, app_id=zalo.app_id)
    assert response.status_code == 200 and "ignored" not in response.json()
    await drain(services)
    user_key = services.crypto.user_key("zalo_oa", USER)
    assert await count(services, Conversation, Conversation.user_key == user_key) == 0
    assert await count(services, Conversation) == 1, "only that person's conversation"
    assert 0 < await count(services, Message) < before, "their transcript is gone, the other's stays"
    assert await count(services, ProcessedMessage, ProcessedMessage.conversation_id.is_(None)) == 0
    assert await count(services, Contact) == held, "the anonymous statistics stay"
    async with services.sessionmaker() as session:
        addresses = [
            services.crypto.decrypt(c.address_enc)
            for c in (await session.execute(select(Conversation))).scalars()
            if c.address_enc
        ]
    assert addresses == ["2468013579"], "their address is gone"
    assert USER not in await dump_database(services)
    assert USER not in caplog.text and "user_withdraw: the person's data deleted" in caplog.text
    assert (await post_oa(person.client, event, app_id=zalo.app_id)).status_code == 200, "again: nothing kept"
    assert "user_withdraw: nothing was kept" in caplog.text


async def test_a_lone_thumbs_up_is_answered_kindly_not_refused(person: Person) -> None:
    """Issue 16: a lone "👍" got "I can only read text"; the engine answers it for every channel."""
    await person.say("/start")
    await person.say("1")
    (text,) = await person.say("👍")
    assert "cảm ơn bạn" in text and "Bạn cần hỗ trợ gì" in text
    assert "chỉ đọc được" not in text
