"""The check-in store (bot/store/checkins.py): timers in the outbox that a later revision voids, the note
encrypted and wiped at the end, counters for the statistics (on both databases)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.clock import FrozenClock
from bot.runtime import Services
from bot.store import checkins
from bot.store import conversations as store
from bot.store.models import Checkin, Contact, OutboxEvent
from bot.store.outbox_kinds import CHECKIN_DUE

NOTE = "Khách sạn Hoa Mai phòng 12, xe Vision đen"


async def _conversation_and_contact(services: Services, session) -> tuple:  # type: ignore[no-untyped-def]
    now = services.clock.now()
    conversation, _, _ = await store.get_or_create(
        session, channel="telegram", user_key="u" * 64, now=now, locale="vi"
    )
    contact = Contact(
        channel="telegram", stats_key="s" * 24, started_at=now, ended_at=now, locale="vi",
        topics=[], articles=[], menu_path=[], referrals=[],
    )  # fmt: skip
    session.add(contact)
    await session.flush()
    return conversation, contact


async def _timers(services: Services) -> list[dict[str, int]]:
    async with services.sessionmaker() as session:
        rows = await session.execute(select(OutboxEvent).where(OutboxEvent.kind == CHECKIN_DUE))
        return [services.crypto.decrypt_json(r.payload_enc) for r in rows.scalars()]


async def test_set_extend_answer(services: Services, clock: FrozenClock) -> None:
    crypto = services.crypto
    async with services.sessionmaker() as session, session.begin():
        conversation, contact = await _conversation_and_contact(services, session)
        checkin = await checkins.set_checkin(
            session, crypto, conversation=conversation, contact=contact,
            due_at=clock.now() + timedelta(hours=1), now=clock.now(), note=NOTE,
        )  # fmt: skip
        checkin_id = checkin.id
        assert checkin.note_enc is not None and NOTE not in checkin.note_enc, "the note is kept encrypted"
        assert checkins.note(crypto, checkin) == NOTE
    first = (await _timers(services))[0]

    async with services.sessionmaker() as session, session.begin():
        checkin = await checkins.active(session, conversation.id)
        assert checkin is not None
        await checkins.extend(
            session, crypto, checkin, until=clock.now() + timedelta(hours=2), now=clock.now()
        )
    second = (await _timers(services))[1]

    async with services.sessionmaker() as session, session.begin():
        assert await checkins.due(session, first) is None, "a timer from before the extension does nothing"  # type: ignore[arg-type]
        checkin = await checkins.due(session, second)  # type: ignore[arg-type]
        assert checkin is not None and checkin.id == checkin_id
        await checkins.answer(session, checkin, now=clock.now())

    async with services.sessionmaker() as session:
        row = await session.get(Checkin, checkin_id)
        assert row is not None and row.stage == "answered" and row.note_enc is None, "the note is gone"
        counted = await session.get(Contact, contact.id)
        assert counted is not None and (counted.checkins_set, counted.checkins_answered) == (1, 1)
        assert await checkins.due(session, second) is None, "an ended check-in has no timer"  # type: ignore[arg-type]


async def test_a_new_checkin_replaces_the_running_one(services: Services, clock: FrozenClock) -> None:
    async with services.sessionmaker() as session, session.begin():
        conversation, contact = await _conversation_and_contact(services, session)
        first = await checkins.set_checkin(
            session, services.crypto, conversation=conversation, contact=contact,
            due_at=clock.now() + timedelta(minutes=30), now=clock.now(), note=NOTE,
        )  # fmt: skip
        second = await checkins.set_checkin(
            session, services.crypto, conversation=conversation, contact=contact,
            due_at=clock.now() + timedelta(hours=1), now=clock.now(),
        )  # fmt: skip
        assert first.stage == "cancelled" and first.note_enc is None
        assert (await checkins.active(session, conversation.id)) is second
