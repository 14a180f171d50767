"""Emergencies first: a reply to a person is never queued behind pages, and one recipient's pace never
holds up another's (issue 13: 60 fake emergencies once delayed a real person's safety reply by 127 s)."""

from __future__ import annotations

import asyncio
import contextlib

from sqlalchemy import select

from bot.clock import FrozenClock
from bot.outbox.dispatcher import Event
from bot.runtime import Services
from bot.store.models import OutboxEvent
from bot.store.outbox import LANE_REPLY, LANE_URGENT, enqueue
from tests.channels.telegram.helpers import VirtualTime
from tests.fakes.telegram_api import FakeTelegram
from tests.outbox.conftest import LAN, STAFF_GROUP, emergency, telegram_person_writes
from tests.support.db import drain

PERSON = 4242


async def page_sends(services: Services, address: int) -> list[OutboxEvent]:
    async with services.sessionmaker() as session:
        rows = (await session.execute(select(OutboxEvent).where(OutboxEvent.kind == "page_send"))).scalars()
        return [r for r in rows if services.crypto.decrypt_json(r.payload_enc)["address"] == str(address)]


async def test_a_reply_to_a_person_goes_ahead_of_every_pending_page(
    services: Services, rota: dict[str, int], pace: VirtualTime, telegram: FakeTelegram
) -> None:
    for _ in range(10):
        await emergency(services)
    assert await services.dispatcher.run_once() == 10, "the ten escalations' first pages are queued"
    assert len(await page_sends(services, STAFF_GROUP)) == 10 and len(await page_sends(services, LAN)) == 10
    await telegram_person_writes(services, PERSON)

    services.dispatcher.batch = 1  # one event at a time, so the order is plain to see
    assert await services.dispatcher.run_once() == 1
    assert telegram.sent(PERSON), "the newest event, the person's reply, went first"
    assert telegram.sent(STAFF_GROUP) == [] and telegram.sent(LAN) == [], "twenty older pages still wait"

    async with services.sessionmaker() as session:
        lanes = {
            k: lane for k, lane in (await session.execute(select(OutboxEvent.kind, OutboxEvent.lane))).all()
        }
    assert lanes["deliver"] == LANE_REPLY and lanes["page_send"] == LANE_URGENT
    assert lanes["repage"] > LANE_URGENT, "a re-page waits behind every first page"


async def test_the_staff_groups_pace_holds_up_neither_a_reply_nor_another_counsellor(
    services: Services, rota: dict[str, int], pace: VirtualTime, telegram: FakeTelegram, clock: FrozenClock
) -> None:
    limiter = services.channels["telegram"].client.limiter  # type: ignore[attr-defined]
    for _ in range(3):
        limiter.reserve(STAFF_GROUP)  # the group has just had its burst: next slot in 3 s, then every 3 s
    for _ in range(3):
        await emergency(services)
    await telegram_person_writes(services, PERSON)
    before = pace.now

    await drain(services)
    replies = len(telegram.sent(PERSON))
    assert replies >= 1, "the person's reply went at once"
    assert len(telegram.sent(LAN)) == 3, "Lan's pages went at once: the group's pace is the group's alone"
    assert telegram.sent(STAFF_GROUP) == []
    assert pace.now == before, "nobody slept for the group's pace"
    waiting = await page_sends(services, STAFF_GROUP)
    assert [e.status for e in waiting] == ["pending"] * 3
    assert all(e.attempts == 0 and e.last_error is None for e in waiting), "pacing is not a failure"
    due = sorted(
        round((e.not_before.replace(tzinfo=None) - clock.now().replace(tzinfo=None)).total_seconds())
        for e in waiting
    )
    assert due == [3, 6, 9], "each waits for its own slot in the group's 20 a minute"

    for seconds, sent in ((3, 1), (3, 2), (3, 3)):
        clock.advance(seconds=seconds)
        pace.now += seconds
        await drain(services)
        assert len(telegram.sent(STAFF_GROUP)) == sent, "one page a slot, each sent once"
    assert len(telegram.sent(PERSON)) == replies and len(telegram.sent(LAN)) == 3


async def test_a_reply_goes_out_while_slow_sends_are_still_running(
    services: Services, pace: VirtualTime, telegram: FakeTelegram
) -> None:
    """No batch waits for its slowest member: a free worker takes the reply as soon as it is queued."""
    dispatcher = services.dispatcher
    dispatcher.workers = 4
    release = asyncio.Event()
    started: list[int] = []

    async def slow_transport(event: Event) -> None:  # a route that hangs (a phone call being placed)
        started.append(event.id)
        await release.wait()

    dispatcher.register("slow_page", slow_transport)
    async with services.sessionmaker() as session, session.begin():
        for _ in range(3):
            await enqueue(session, services.crypto, kind="slow_page", payload={}, now=services.clock.now())
    outbox = asyncio.create_task(dispatcher.run_forever(interval=3600))
    try:
        async with asyncio.timeout(10):
            while len(started) < 3:  # noqa: ASYNC110
                await asyncio.sleep(0.01)
            await telegram_person_writes(services, PERSON)  # wakes the dispatcher (after commit)
            while not telegram.sent(PERSON):  # noqa: ASYNC110
                await asyncio.sleep(0.01)
        assert not release.is_set() and len(started) == 3, "the slow sends are still running"
    finally:
        release.set()
        outbox.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await outbox


async def test_a_clean_up_queued_before_a_reply_does_not_keep_it_in_the_slow_lane(
    services: Services, rota: dict[str, int], pace: VirtualTime, telegram: FakeTelegram
) -> None:
    """Order per person is kept, and the reply's lane lifts the clean-up that stands before it."""
    user_key = services.crypto.user_key("telegram", str(PERSON))
    async with services.sessionmaker() as session, session.begin():
        await enqueue(
            session,
            services.crypto,
            kind="telegram_cleanup",
            channel="telegram",
            payload={"chat_id": str(PERSON), "messages": []},
            now=services.clock.now(),
            ordering_key=f"telegram:{user_key[:32]}",
        )
    for _ in range(5):
        await emergency(services)
    await telegram_person_writes(services, PERSON)
    services.dispatcher.batch = 1
    await services.dispatcher.run_once()  # the clean-up, in the reply's place
    await services.dispatcher.run_once()  # the reply
    assert telegram.sent(PERSON), "the reply went second"
    assert telegram.sent(STAFF_GROUP) == [], "before any of the five pages"
    async with services.sessionmaker() as session:
        kinds = dict(
            (
                await session.execute(
                    select(OutboxEvent.kind, OutboxEvent.status).where(
                        OutboxEvent.kind.in_(["telegram_cleanup", "deliver"])
                    )
                )
            ).all()
        )
    assert kinds == {"telegram_cleanup": "done", "deliver": "done"}
