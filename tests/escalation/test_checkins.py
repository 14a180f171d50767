"""Safety check-ins through the engine (web chat here; Telegram, Zalo and Messenger through their fakes in
tests/channels/test_checkins_channels.py), the clock moved instead of waited for: set -> "are you OK?"
-> answered; no answer -> a second message -> an emergency paged with the note; extend; cancel; discreet
wording; a restart between setting and the time; the note gone once the check-in ends."""

from __future__ import annotations

import secrets
from typing import Any

import httpx
from sqlalchemy import select

from bot.clock import FrozenClock
from bot.runtime import Services, build_services
from bot.store.models import Checkin, Contact, Escalation, OutboxEvent
from tests.escalation.conftest import RecordingPager, drain
from tests.support.db import dump_database

NOTE = "Nha nghi Hoa Mai phong 12, xe Vision den bien 29"
BANNED = ("an toàn", "safety", "khách", "client", "safe")


async def say(client: httpx.AsyncClient, person: str, text: str) -> list[dict[str, Any]]:
    response = await client.post("/api/webchat", json={"session": person, "text": text})
    assert response.status_code == 200, response.text
    return list(response.json()["replies"])


async def tap(client: httpx.AsyncClient, person: str, choice: str) -> list[dict[str, Any]]:
    response = await client.post("/api/webchat", json={"session": person, "choice": choice})
    assert response.status_code == 200, response.text
    return list(response.json()["replies"])


async def inbox(client: httpx.AsyncClient, person: str) -> list[dict[str, Any]]:
    response = await client.post("/api/webchat/poll", json={"session": person})
    return list(response.json()["replies"])


def texts(replies: list[dict[str, Any]]) -> str:
    return "\n".join(r["text"] for r in replies)


def choice_ids(replies: list[dict[str, Any]]) -> list[str]:
    return [c["id"] for r in replies for c in r["choices"]]


async def set_one(client: httpx.AsyncClient, person: str, *, note: str | None = NOTE) -> list[dict[str, Any]]:
    """Start the flow, pick 1 hour, leave the note (or none)."""
    await say(client, person, "xin chào")
    replies = await say(client, person, "hẹn giờ an toàn")
    assert "chỉ nhắn được cho bạn khi trang này còn mở" in texts(replies), "the web chat says so"
    assert {"checkin.pick:m30", "checkin.pick:h1", "checkin.pick:h2"} <= set(choice_ids(replies))
    replies = await tap(client, person, "checkin.pick:h1")
    assert "11:00" in texts(replies), "the clock time in Vietnam (the clock is at 03:00 UTC): 10:00 + 1 h"
    if note is not None:
        replies = await say(client, person, note)
        assert "Đã lưu ghi chú" in texts(replies)
    return replies


async def test_set_then_answered(client: httpx.AsyncClient, services: Services, clock: FrozenClock) -> None:
    person = secrets.token_hex(16)
    await set_one(client, person)
    clock.advance(minutes=59)
    await drain(services)
    assert await inbox(client, person) == [], "nothing before the time"
    clock.advance(minutes=1)
    await drain(services)
    asked = await inbox(client, person)
    assert "Bạn ổn chứ?" in texts(asked)
    assert choice_ids(asked) == ["checkin.due:ok", "checkin.due:help", "checkin.due:more"]
    replies = await tap(client, person, "checkin.due:ok")
    assert "Mừng là bạn ổn" in texts(replies)
    clock.advance(minutes=30)
    await drain(services)
    assert await inbox(client, person) == [], "answered: no reminder, no page"
    async with services.sessionmaker() as session:
        checkin = (await session.execute(select(Checkin))).scalar_one()
        assert checkin.stage == "answered" and checkin.note_enc is None
        assert (await session.execute(select(Escalation))).first() is None


async def test_typed_answer_without_diacritics(
    client: httpx.AsyncClient, services: Services, clock: FrozenClock
) -> None:
    person = secrets.token_hex(16)
    await say(client, person, "hen gio an toan")
    replies = await say(client, person, "45p")
    assert "10:45" in texts(replies)
    clock.advance(minutes=45)
    await drain(services)
    assert "Bạn ổn chứ?" in texts(await inbox(client, person))
    assert "Mừng là bạn ổn" in texts(await say(client, person, "em van on"))


async def test_no_answer_reminds_then_pages_with_the_note(
    client: httpx.AsyncClient,
    services: Services,
    clock: FrozenClock,
    rota: dict[str, int],
    telegram_pager: RecordingPager,
) -> None:
    person = secrets.token_hex(16)
    await set_one(client, person)
    clock.advance(hours=1)
    await drain(services)
    assert "Bạn ổn chứ?" in texts(await inbox(client, person))
    clock.advance(minutes=9)
    await drain(services)
    assert await inbox(client, person) == []
    clock.advance(minutes=1)
    await drain(services)
    louder = texts(await inbox(client, person))
    assert "BẠN ỔN CHỨ?" in louder and "tư vấn viên" in louder
    assert telegram_pager.pages == [], "not paged yet"
    clock.advance(minutes=10)
    await drain(services)
    assert "đã báo tư vấn viên" in texts(await inbox(client, person))
    pages = [page for _, page in telegram_pager.pages]
    assert pages and all("KHẨN CẤP" in p.text and "hẹn giờ an toàn" in p.text for p in pages)
    async with services.sessionmaker() as session:
        escalation = (await session.execute(select(Escalation))).scalar_one()
        assert (escalation.kind, escalation.risk) == ("emergency", "missed_checkin")
        checkin = (await session.execute(select(Checkin))).scalar_one()
        assert checkin.stage == "escalated" and checkin.escalation_id == escalation.id
        assert checkin.note_enc is None, "the note left the check-in for the transcript"
        contact = (await session.execute(select(Contact).where(Contact.checkins_set == 1))).scalar_one()
        assert contact.checkins_escalated == 1, "counted where it was set"
        assert (await session.execute(select(Contact).where(Contact.emergency))).first() is not None
    queue = await services.desk.queue()
    assert queue[0].risk == "missed_checkin" and queue[0].checkin_set_at is not None
    result = await services.desk.take(escalation.id, rota["Lan"], via="console")
    assert result.taken
    lines = await services.desk.transcript(escalation.id, rota["Lan"], staff_id=None)
    assert any(NOTE in text and "10:00" in text for _, text, _ in lines), "the counsellor reads the note"
    clock.advance(hours=2)
    await drain(services)
    later = texts(await inbox(client, person))
    assert "Lan" in later and "ổn chứ" not in later.lower(), "nothing more from the ended check-in"


async def test_extend_and_more_time_at_the_prompt(
    client: httpx.AsyncClient, services: Services, clock: FrozenClock
) -> None:
    person = secrets.token_hex(16)
    replies = await set_one(client, person, note=None)
    replies = await tap(client, person, "checkin.note:done")
    assert "checkin.running:more" in choice_ids(replies)
    replies = await tap(client, person, "checkin.running:more")
    assert "11:30" in texts(replies), "one hour and thirty minutes"
    clock.advance(hours=1)
    await drain(services)
    assert await inbox(client, person) == [], "the first time no longer holds"
    clock.advance(minutes=30)
    await drain(services)
    assert "Bạn ổn chứ?" in texts(await inbox(client, person))
    replies = await tap(client, person, "checkin.due:more")
    assert "12:00" in texts(replies), "30 more minutes from now"
    clock.advance(minutes=20)
    await drain(services)
    assert await inbox(client, person) == [], "no reminder: the time moved"
    clock.advance(minutes=10)
    await drain(services)
    assert "Bạn ổn chứ?" in texts(await inbox(client, person))


async def test_cancel(client: httpx.AsyncClient, services: Services, clock: FrozenClock) -> None:
    person = secrets.token_hex(16)
    await set_one(client, person)
    replies = await say(client, person, "huy hen gio")
    assert "Đã hủy" in texts(replies)
    clock.advance(hours=3)
    await drain(services)
    assert await inbox(client, person) == []
    async with services.sessionmaker() as session:
        checkin = (await session.execute(select(Checkin))).scalar_one()
        assert checkin.stage == "cancelled" and checkin.note_enc is None
    assert "không có hẹn giờ" in texts(await say(client, person, "huy hen gio"))


async def test_several_in_a_row(client: httpx.AsyncClient, services: Services, clock: FrozenClock) -> None:
    person = secrets.token_hex(16)
    for _ in range(3):
        await set_one(client, person, note=None)
        clock.advance(hours=1)
        await drain(services)
        assert "Bạn ổn chứ?" in texts(await inbox(client, person))
        await tap(client, person, "checkin.due:ok")
        clock.advance(hours=-1)  # the next one at the same clock time, for the assertion above
    async with services.sessionmaker() as session:
        stages = [c.stage for c in (await session.execute(select(Checkin))).scalars()]
    assert stages == ["answered"] * 3


async def test_discreet_wording_never_says_safety_or_client(
    client: httpx.AsyncClient, services: Services, clock: FrozenClock, rota: dict[str, int]
) -> None:
    person = secrets.token_hex(16)
    await say(client, person, "hẹn giờ an toàn")
    seen: list[dict[str, Any]] = []
    seen += await tap(client, person, "checkin.pick:discreet")
    seen += await tap(client, person, "checkin.pick_discreet:m30")
    seen += await say(client, person, "o quan 3 voi anh Tuan")
    seen += await tap(client, person, "checkin.saved_discreet:more")
    clock.advance(hours=1)
    await drain(services)
    seen += await inbox(client, person)
    clock.advance(minutes=10)
    await drain(services)
    seen += await inbox(client, person)
    clock.advance(minutes=10)
    await drain(services)
    seen += await inbox(client, person)
    shown = (texts(seen) + " " + " ".join(c["label"] for r in seen for c in r["choices"])).lower()
    assert "bạn ổn chứ" in shown and "11:00" in shown
    for word in BANNED:
        assert word not in shown, f"discreet mode said {word!r}"


async def test_a_restart_between_setting_and_the_time(
    client: httpx.AsyncClient,
    services: Services,
    clock: FrozenClock,
    nlu,
    content,  # type: ignore[no-untyped-def]
) -> None:
    person = secrets.token_hex(16)
    await set_one(client, person)
    await services.close()  # the process ends with the check-in set
    clock.advance(hours=1)
    again = build_services(services.settings, clock=clock, nlu=nlu, content=content)
    await again.start(dispatcher=False)
    try:
        await drain(again)
        async with again.sessionmaker() as session:
            checkin = (await session.execute(select(Checkin))).scalar_one()
            assert checkin.stage == "asked", "the new process asked at the time"
            inbox_rows = await session.execute(select(OutboxEvent).where(OutboxEvent.kind == "inbox"))
            payloads = [again.crypto.decrypt_json(r.payload_enc) for r in inbox_rows.scalars()]
        assert any("Bạn ổn chứ?" in r["text"] for p in payloads for r in p["replies"])
    finally:
        await again.close()


async def test_the_note_is_gone_once_the_checkin_ends(
    client: httpx.AsyncClient, services: Services, clock: FrozenClock
) -> None:
    person = secrets.token_hex(16)
    await set_one(client, person)
    assert NOTE.encode() not in (await dump_database(services, files=False)).encode(), "kept encrypted"
    async with services.sessionmaker() as session:
        checkin = (await session.execute(select(Checkin))).scalar_one()
        assert checkin.note_enc is not None
    await say(client, person, "huy hen gio")
    async with services.sessionmaker() as session:
        checkin = (await session.execute(select(Checkin))).scalar_one()
        assert checkin.note_enc is None and checkin.ended_at is not None


async def test_an_emergency_written_during_a_checkin_pages_and_ends_it(
    client: httpx.AsyncClient, services: Services, clock: FrozenClock, rota: dict[str, int]
) -> None:
    person = secrets.token_hex(16)
    await set_one(client, person)
    replies = await say(client, person, "cuu em voi, no dang danh em")
    assert "113" in texts(replies)
    async with services.sessionmaker() as session:
        checkin = (await session.execute(select(Checkin))).scalar_one()
        escalation = (await session.execute(select(Escalation))).scalar_one()
        assert checkin.stage == "escalated" and checkin.escalation_id == escalation.id
    clock.advance(hours=2)
    await drain(services)
    assert not any("Bạn ổn chứ?" in r["text"] for r in await inbox(client, person))


async def test_the_console_lists_a_missed_checkin_with_the_time_it_was_set(
    client: httpx.AsyncClient, services: Services, clock: FrozenClock
) -> None:
    from tests.console.test_console import add_staff, login

    person = secrets.token_hex(16)
    await set_one(client, person, note=None)
    clock.advance(minutes=80)  # asked at 11:00, reminded at 11:10, paged at 11:20
    for _ in range(3):
        await drain(services)
        clock.advance(minutes=10)
    await add_staff(services, "lan")
    await login(client, "lan")
    queue = (await client.get("/console/api/queue")).json()
    assert [(item["kind"], item["checkin_set_at"]) for item in queue] == [("emergency", "10:00")]
    page = await client.get("/console")
    assert '"missed_checkin":' in page.text, "the words queue.js shows it with"
