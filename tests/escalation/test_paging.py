"""An emergency reaches a person: safety reply, page, re-page, take, relay, close, statistics."""

from __future__ import annotations

import asyncio
import secrets
from typing import Any

import httpx
from sqlalchemy import select

from bot.clock import FrozenClock
from bot.escalation.desk import DeskError
from bot.runtime import Services
from bot.store.models import Contact, Escalation, OutboxEvent
from tests.escalation.conftest import RecordingPager, drain

EMERGENCY = "cuu em voi, ck dang danh em"


async def say(client: httpx.AsyncClient, session: str, text: str) -> dict[str, Any]:
    response = await client.post("/api/webchat", json={"session": session, "text": text})
    assert response.status_code == 200, response.text
    return response.json()


async def inbox(client: httpx.AsyncClient, session: str) -> list[str]:
    response = await client.post("/api/webchat/poll", json={"session": session})
    return [r["text"] for r in response.json()["replies"]]


async def test_emergency_is_answered_at_once_and_written_with_its_page(
    client: httpx.AsyncClient, services: Services, rota: dict[str, int]
) -> None:
    data = await say(client, secrets.token_hex(16), EMERGENCY)
    text = data["replies"][0]["text"]
    assert "113" in text and "an toàn" in text and "tư vấn viên" in text
    assert any("Thoát nhanh" in c["label"] for c in data["replies"][0]["choices"]), "a discreet way out"
    async with services.sessionmaker() as session:
        escalation = (await session.execute(select(Escalation))).scalar_one()
        assert escalation.kind == "emergency" and escalation.status == "open"
        page = (await session.execute(select(OutboxEvent).where(OutboxEvent.kind == "page"))).scalar_one()
        assert page.escalation_id == escalation.id and page.status == "pending"


async def test_page_repage_take_relay_close(
    client: httpx.AsyncClient,
    services: Services,
    rota: dict[str, int],
    telegram_pager: RecordingPager,
    clock: FrozenClock,
) -> None:
    person = secrets.token_hex(16)
    await say(client, person, EMERGENCY)
    await drain(services)
    addresses = [address for address, _ in telegram_pager.pages]
    # Pages to different recipients go out at once, so their order is not fixed.
    assert sorted(addresses) == ["-100555", "1001"], "Lan (first in the chain) and the staff group"
    page = next(page for address, page in telegram_pager.pages if address == "1001")
    assert "KHẨN CẤP" in page.text and page.take_data.startswith("take:")

    clock.advance(seconds=60)
    await drain(services)
    assert len(telegram_pager.pages) == 2, "no re-page before the acknowledgement time"
    clock.advance(seconds=61)
    await drain(services)
    assert [a for a, _ in telegram_pager.pages[2:]] == ["1002"], "then the backup, Minh"

    escalation_id = page.escalation_id
    result = await services.desk.take(escalation_id, rota["Minh"], via="console")
    assert result.taken
    again = await services.desk.take(escalation_id, rota["Lan"], via="console")
    assert not again.taken and again.holder == "Minh", "others see who took it"
    assert any("Minh" in t and "đã nhận" in t for t in await inbox(client, person))

    clock.advance(seconds=600)
    await drain(services)
    assert len(telegram_pager.pages) == 3, "taken: nobody else is paged"

    data = await say(client, person, "em dang o nha nghi duong Tran Phu")
    assert data["replies"] == [], "held by a counsellor: the bot stays quiet"
    lines = await services.desk.transcript(escalation_id, rota["Minh"], staff_id=None)
    assert any("nha nghi" in text for _, text, _ in lines)
    await services.desk.reply(escalation_id, rota["Minh"], "Chi dang o day. Em co an toan khong?")
    assert any("Minh (tư vấn viên): Chi dang o day" in t for t in await inbox(client, person))

    try:
        await services.desk.reply(escalation_id, rota["Lan"], "toi cung muon noi")
        raise AssertionError("only the holder may write")
    except DeskError:
        pass
    await services.desk.close(escalation_id, rota["Minh"], "safe")
    assert any("kết thúc" in t for t in await inbox(client, person))
    data = await say(client, person, "PrEP là gì")
    assert data["replies"], "back to the bot"

    async with services.sessionmaker() as session:
        contact = (await session.execute(select(Contact).where(Contact.emergency))).scalar_one()
        assert contact.paged_at is not None and contact.taken_at is not None and contact.closed_at is not None
        assert contact.outcome == "safe"
        assert (contact.taken_at - contact.paged_at).total_seconds() == 121


async def test_nobody_answers_then_everyone_then_the_person_is_told(
    client: httpx.AsyncClient,
    services: Services,
    rota: dict[str, int],
    telegram_pager: RecordingPager,
    clock: FrozenClock,
) -> None:
    person = secrets.token_hex(16)
    await say(client, person, EMERGENCY)
    await drain(services)
    for _ in range(2):
        clock.advance(seconds=121)
        await drain(services)
    # Lan, then Minh, then everyone with a Telegram route (Lan, Minh) and the group again.
    addresses = [a for a, _ in telegram_pager.pages]
    assert sorted(addresses[:2]) == ["-100555", "1001"] and addresses[2] == "1002"
    assert sorted(addresses[3:]) == ["-100555", "1001", "1002"]
    assert not await inbox(client, person)
    clock.advance(seconds=121)
    await drain(services)
    messages = await inbox(client, person)
    assert len(messages) == 1 and "chưa liên lạc được" in messages[0] and "1900 969 680" in messages[0]
    clock.advance(seconds=3600)
    await drain(services)
    assert not await inbox(client, person), "told once"
    async with services.sessionmaker() as session:
        contact = (await session.execute(select(Contact).where(Contact.emergency))).scalar_one()
        assert contact.unreached
        escalation = (await session.execute(select(Escalation))).scalar_one()
        assert escalation.status == "open", "it stays in the queue for whoever comes"


async def test_first_tap_wins(services: Services, client: httpx.AsyncClient, rota: dict[str, int]) -> None:
    await say(client, secrets.token_hex(16), EMERGENCY)
    async with services.sessionmaker() as session:
        escalation_id = (await session.execute(select(Escalation.id))).scalar_one()
    results = await asyncio.gather(
        services.desk.take(escalation_id, rota["Lan"], via="telegram"),
        services.desk.take(escalation_id, rota["Minh"], via="telegram"),
    )
    assert sorted(r.taken for r in results) == [False, True]
    winner = next(r for r in results if r.taken).holder
    assert all(r.holder == winner for r in results)


async def test_second_emergency_message_re_alerts_instead_of_opening_another(
    client: httpx.AsyncClient, services: Services, rota: dict[str, int]
) -> None:
    person = secrets.token_hex(16)
    await say(client, person, EMERGENCY)
    data = await say(client, person, "cuu em, no van dang danh")
    assert "vẫn ở đây" in data["replies"][0]["text"]
    async with services.sessionmaker() as session:
        assert len((await session.execute(select(Escalation))).all()) == 1
        kinds = [e.kind for e in (await session.execute(select(OutboxEvent))).scalars()]
        assert kinds.count("page") == 1 and kinds.count("page_update") == 1
