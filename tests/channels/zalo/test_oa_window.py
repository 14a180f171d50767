"""Zalo's free-reply window: 8 messages within 48 hours of the person's last one. Beyond it a
counsellor's message waits (held), the counsellor is told why, and it goes out when the person writes."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import select

from bot.channels.registry import CHANNEL_FACTORIES
from bot.clock import FrozenClock
from bot.runtime import Services
from bot.store.erasure import erase_conversation
from bot.store.models import Conversation, Counsellor, Escalation, Message, OutboxEvent
from tests.channels.zalo.conftest import USER, drain, oa_event, post_oa
from tests.fakes.zalo_api import FakeZalo


class Takeover:
    """A person on the OA whose emergency a counsellor (Lan) has taken."""

    def __init__(
        self, client: httpx.AsyncClient, services: Services, zalo: FakeZalo, clock: FrozenClock
    ) -> None:
        self.client, self.services, self.zalo, self.clock = client, services, zalo, clock
        self.n = 0
        self.escalation_id = 0
        self.counsellor_id = 0

    async def write(self, text: str) -> None:
        self.n += 1
        event = oa_event(text, msg_id=f"w{self.n}", clock=self.clock, app_id=self.zalo.app_id)
        assert (await post_oa(self.client, event, app_id=self.zalo.app_id)).status_code == 200
        await drain(self.services)

    async def start(self) -> None:
        await self.write("cuu em voi, ck dang danh em")
        async with self.services.sessionmaker() as session, session.begin():
            counsellor = Counsellor(display_name="Lan", active=True, created_at=self.clock.now())
            session.add(counsellor)
            await session.flush()
            self.counsellor_id = counsellor.id
            self.escalation_id = (await session.execute(select(Escalation.id))).scalar_one()
        assert (await self.services.desk.take(self.escalation_id, self.counsellor_id, via="console")).taken
        await drain(self.services)

    async def counsellor_says(self, text: str) -> None:
        await self.services.desk.reply(self.escalation_id, self.counsellor_id, text)
        await drain(self.services)

    def received(self) -> list[str]:
        return [text for _, text in self.zalo.oa_sent]


@pytest.fixture
async def takeover(
    client: httpx.AsyncClient, services: Services, zalo: FakeZalo, clock: FrozenClock
) -> Takeover:
    person = Takeover(client, services, zalo, clock)
    await person.start()
    return person


async def events(services: Services, kind: str) -> list[tuple[OutboxEvent, dict[str, Any]]]:
    async with services.sessionmaker() as session:
        rows = await session.execute(
            select(OutboxEvent).where(OutboxEvent.kind == kind).order_by(OutboxEvent.id)
        )
        return [(row, services.crypto.decrypt_json(row.payload_enc)) for row in rows.scalars()]


async def test_the_ninth_message_is_held_reported_and_sent_when_the_person_writes_again(
    takeover: Takeover, services: Services, clock: FrozenClock
) -> None:
    clock.advance(minutes=5)
    await takeover.write("em dang o nha nghi")  # the window opens anew: 8 free messages
    before = len(takeover.received())
    for n in range(1, 10):
        clock.advance(minutes=1)
        await takeover.counsellor_says(f"tin số {n}")
    sent = takeover.received()[before:]
    assert len(sent) == 8 and all(f"tin số {n}" in sent[n - 1] for n in range(1, 9))

    delivers = await events(services, "deliver")
    ninth, _ = delivers[-1]
    assert ninth.status == "held", "the 9th waits; it is not lost"
    notices = await events(services, "staff_notice")
    assert [payload for _, payload in notices] == [
        {"conversation_id": ninth.conversation_id, "reason": "zalo_oa_window", "held_event_id": ninth.id}
    ]
    async with services.sessionmaker() as session:
        notes = (await session.execute(select(Message).where(Message.direction == "note"))).scalars().all()
        text = services.crypto.decrypt(notes[-1].body_enc)
        assert "8 tin trong 48 giờ" in text, "the counsellor sees why, in the conversation"

    clock.advance(hours=2)
    await takeover.counsellor_says("tin số 10")
    assert len(takeover.received()) == before + 8, "nothing overtakes the held message"
    assert [row.status for row, _ in (await events(services, "deliver"))[-2:]] == ["held", "held"]

    clock.advance(hours=1)
    await takeover.write("em van o day")
    released = takeover.received()[before + 8 :]
    assert len(released) == 2 and "tin số 9" in released[0] and "tin số 10" in released[1], "in their order"


async def test_after_48_hours_silence_a_message_waits_for_the_person(
    takeover: Takeover, services: Services, clock: FrozenClock
) -> None:
    before = len(takeover.received())
    clock.advance(hours=48, seconds=1)
    await takeover.counsellor_says("Em còn ở đó không?")
    assert len(takeover.received()) == before
    assert (await events(services, "deliver"))[-1][0].status == "held"
    clock.advance(days=3)
    await takeover.write("em day")
    assert "Em còn ở đó không?" in takeover.received()[-1]


async def test_the_window_survives_a_restart_because_it_is_read_from_the_database(
    takeover: Takeover, services: Services, clock: FrozenClock
) -> None:
    # The window is not kept in memory: a fresh channel object (as after a restart) counts the same.
    clock.advance(minutes=5)
    await takeover.write("em dang o nha nghi")
    for n in range(1, 9):
        await takeover.counsellor_says(f"tin {n}")
    [entry] = [e for e in CHANNEL_FACTORIES if e.name == "zalo_oa"]
    first, fresh = services.channels["zalo_oa"], services.build(entry)
    assert fresh is not None
    services.channels["zalo_oa"] = fresh
    try:
        await takeover.counsellor_says("tin 9")
        assert (await events(services, "deliver"))[-1][0].status == "held"
    finally:
        services.channels["zalo_oa"] = first
        await fresh.stop()


async def test_a_person_who_deletes_their_data_leaves_no_held_message(
    takeover: Takeover, services: Services, clock: FrozenClock
) -> None:
    clock.advance(hours=49)
    await takeover.counsellor_says("Em ổn không?")
    assert (await events(services, "deliver"))[-1][0].status == "held"
    async with services.sessionmaker() as session, session.begin():
        conversation = (await session.execute(select(Conversation))).scalar_one()
        await erase_conversation(session, services.crypto, conversation, now=clock.now())
    assert [row.status for row, _ in await events(services, "deliver") if row.status == "held"] == []


async def test_when_zalo_itself_refuses_the_message_waits_without_looping(
    takeover: Takeover, services: Services, zalo: FakeZalo, clock: FrozenClock
) -> None:
    """Our count and Zalo's should agree; if Zalo says the window is closed, Zalo is right."""
    before = len(takeover.received())
    tried = len([c for c in zalo.calls if c.path == "/v3.0/oa/message/cs"])
    zalo.window_closed.add(USER)
    clock.advance(minutes=1)
    await takeover.counsellor_says("Em ổn không?")
    await takeover.counsellor_says("Chị vẫn ở đây.")
    for _ in range(3):
        await drain(services)
    tries = [c for c in zalo.calls if c.path == "/v3.0/oa/message/cs"]
    assert len(tries) == tried + 1, "one refused try; the next waits behind it without calling Zalo"
    assert [row.status for row, _ in (await events(services, "deliver"))[-2:]] == ["held", "held"]
    assert len(await events(services, "staff_notice")) == 2

    zalo.window_closed.clear()
    clock.advance(minutes=1)
    await takeover.write("em day")
    received = takeover.received()[before:]
    assert len(received) == 2 and "Em ổn không?" in received[0] and "Chị vẫn ở đây." in received[1]
