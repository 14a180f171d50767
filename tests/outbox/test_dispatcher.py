"""The outbox dispatcher on its own (bot/outbox/dispatcher.py), with handlers written here and the frozen
clock: leases, order within an ordering key, lanes, hold, give up and back-off, on SQLite and PostgreSQL.

Nothing sleeps: a due time is reached by moving the clock, and ``run_once`` runs what is due now.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from bot.clock import FrozenClock
from bot.outbox.dispatcher import MAX_BACKOFF_SECONDS, Dispatcher, Event, GiveUp, Handler, Hold, NotYet, Retry
from bot.runtime import Services
from bot.store.models import OutboxEvent
from bot.store.outbox import LANE_OTHER, LANE_REPLY, LANE_URGENT, enqueue

KIND = "test_send"


@dataclass
class Recorder:
    """Records each event it is given; raises the next scripted outcome (then succeeds)."""

    script: list[BaseException] = field(default_factory=list)
    always: BaseException | None = None
    seen: list[tuple[str, Any]] = field(default_factory=list)

    async def __call__(self, event: Event) -> None:
        self.seen.append((event.kind, event.payload.get("n")))
        if self.always is not None:
            raise self.always
        if self.script:
            raise self.script.pop(0)

    @property
    def numbers(self) -> list[Any]:
        return [n for _, n in self.seen]


def dispatcher(
    services: Services, clock: FrozenClock, handler: Recorder, *kinds: str, **options: Any
) -> Dispatcher:
    """A dispatcher of its own (not the service's) that runs ``handler`` for ``kinds``."""
    handlers: dict[str, Handler] = {kind: handler for kind in kinds or (KIND,)}
    return Dispatcher(services.sessionmaker, services.crypto, clock, handlers, **options)


async def add(services: Services, clock: FrozenClock, n: int, *, kind: str = KIND, **options: Any) -> int:
    async with services.sessionmaker() as session, session.begin():
        event = await enqueue(
            session, services.crypto, kind=kind, payload={"n": n}, now=clock.now(), **options
        )
        await session.flush()
        return event.id


async def row(services: Services, event_id: int) -> OutboxEvent:
    async with services.sessionmaker() as session:
        found = await session.get(OutboxEvent, event_id)
        assert found is not None
        return found


async def run(outbox: Dispatcher) -> int:
    """Run until nothing more is due now; how many events finished."""
    total = 0
    while done := await outbox.run_once():
        total += done
    return total


# -- leases -------------------------------------------------------------------------------------------------


async def test_a_live_lease_is_left_alone_and_an_expired_one_is_taken_back(
    services: Services, clock: FrozenClock
) -> None:
    handler = Recorder()
    event_id = await add(services, clock, 1)
    # another process claimed it and died mid-send: its lease runs for 15 more seconds
    async with services.sessionmaker() as session, session.begin():
        await session.execute(
            update(OutboxEvent)
            .where(OutboxEvent.id == event_id)
            .values(claimed_by="dead-process/0001", claimed_until=clock.now() + timedelta(seconds=15))
        )
    outbox = dispatcher(services, clock, handler)
    assert await outbox.run_once() == 0
    assert handler.seen == [], "a live lease is someone else's send in progress"
    clock.advance(seconds=16)
    assert await outbox.run_once() == 1
    assert handler.numbers == [1]
    done = await row(services, event_id)
    assert (done.status, done.claimed_by, done.claimed_until) == ("done", None, None)


# -- order and lanes ---------------------------------------------------------------------------------------


async def test_one_ordering_keys_events_go_out_in_order_one_at_a_time(
    services: Services, clock: FrozenClock
) -> None:
    handler = Recorder()
    for n in (1, 2, 3):
        await add(services, clock, n, ordering_key="person-a")
    await add(services, clock, 9, ordering_key="person-b")
    outbox = dispatcher(services, clock, handler)
    assert await outbox.run_once() == 2, "one event per key per cycle: the heads of a and b"
    assert sorted(handler.numbers) == [1, 9]
    await run(outbox)
    assert [n for n in handler.numbers if n != 9] == [1, 2, 3]


async def test_a_later_event_waits_while_an_earlier_one_of_its_key_waits_for_a_retry(
    services: Services, clock: FrozenClock
) -> None:
    handler = Recorder(script=[Retry(30, "429")])
    first = await add(services, clock, 1, ordering_key="person-a")
    await add(services, clock, 2, ordering_key="person-a")
    outbox = dispatcher(services, clock, handler)
    await run(outbox)
    assert handler.numbers == [1], "the second is not sent before the first"
    assert (await row(services, first)).status == "pending"
    clock.advance(seconds=30)
    await run(outbox)
    assert handler.numbers == [1, 1, 2]


async def test_replies_then_first_pages_then_the_rest_whatever_the_order_written(
    services: Services, clock: FrozenClock
) -> None:
    handler = Recorder()
    ids = [
        await add(services, clock, 3, kind="staff_notice"),
        await add(services, clock, 2, kind="page"),
        await add(services, clock, 1, kind="deliver"),
        await add(services, clock, 4, kind="staff_notice"),
    ]
    lanes = {(await row(services, i)).lane for i in ids}
    assert lanes == {LANE_REPLY, LANE_URGENT, LANE_OTHER}
    outbox = dispatcher(services, clock, handler, "deliver", "page", "staff_notice", batch=1)
    await run(outbox)
    assert handler.numbers == [1, 2, 3, 4], "lane first, oldest first within a lane"


# -- hold -----------------------------------------------------------------------------------------------------


async def test_a_held_event_is_kept_never_retried_and_staff_are_told_why(
    services: Services, clock: FrozenClock
) -> None:
    handler = Recorder(script=[Hold("zalo_oa_window")])
    notices = Recorder()
    event_id = await add(services, clock, 1, conversation_id=None)
    outbox = Dispatcher(
        services.sessionmaker, services.crypto, clock, {KIND: handler, "staff_notice": notices}
    )
    assert await outbox.run_once() == 1, "held counts as finished for now"
    held = await row(services, event_id)
    assert (held.status, held.last_error, held.attempts) == ("held", "zalo_oa_window", 1)
    clock.advance(days=3)
    await run(outbox)
    assert handler.numbers == [1], "a held event is never tried again by the dispatcher"
    async with services.sessionmaker() as session:
        notice = (
            await session.execute(select(OutboxEvent).where(OutboxEvent.kind == "staff_notice"))
        ).scalar_one()
    assert notice.status == "done"
    payload = services.crypto.decrypt_json(notice.payload_enc)
    assert payload["reason"] == "zalo_oa_window" and payload["held_event_id"] == event_id


# -- give up ----------------------------------------------------------------------------------------------------


async def test_give_up_is_dead_at_once(services: Services, clock: FrozenClock) -> None:
    handler = Recorder(always=GiveUp("blocked by the person"))
    event_id = await add(services, clock, 1)
    outbox = dispatcher(services, clock, handler)
    assert await outbox.run_once() == 1
    clock.advance(days=1)
    await run(outbox)
    dead = await row(services, event_id)
    assert (dead.status, dead.attempts, dead.last_error) == ("dead", 1, "blocked by the person")
    assert handler.numbers == [1]


async def test_an_event_that_keeps_failing_is_dead_after_max_attempts(
    services: Services, clock: FrozenClock
) -> None:
    handler = Recorder(always=RuntimeError("the platform is down"))
    event_id = await add(services, clock, 1)
    outbox = dispatcher(services, clock, handler, max_attempts=3)
    for _ in range(5):
        await run(outbox)
        clock.advance(seconds=MAX_BACKOFF_SECONDS)
    dead = await row(services, event_id)
    assert (dead.status, dead.attempts) == ("dead", 3)
    assert dead.last_error == "RuntimeError: the platform is down"
    assert len(handler.seen) == 3


async def test_a_page_is_never_given_up_after_max_attempts(services: Services, clock: FrozenClock) -> None:
    handler = Recorder(always=RuntimeError("the platform is down"))
    event_id = await add(services, clock, 1, kind="page")
    outbox = dispatcher(services, clock, handler, "page", max_attempts=2)
    for _ in range(5):
        await run(outbox)
        clock.advance(seconds=MAX_BACKOFF_SECONDS)
    still = await row(services, event_id)
    assert (still.status, still.attempts) == ("pending", 5), "an emergency's page is tried until it goes"


# -- back-off ----------------------------------------------------------------------------------------------------


async def test_failures_back_off_doubling_up_to_the_cap(services: Services, clock: FrozenClock) -> None:
    handler = Recorder(always=RuntimeError("down"))
    event_id = await add(services, clock, 1)
    outbox = dispatcher(services, clock, handler)
    waits: list[float] = []
    for _ in range(10):
        assert await run(outbox) == 0
        pending = await row(services, event_id)
        waits.append((pending.not_before - clock.now()).total_seconds())
        clock.advance(seconds=waits[-1] - 1)
        assert await outbox.run_once() == 0
        assert len(handler.seen) == len(waits), "not tried again before its time"
        clock.advance(seconds=1)
    assert waits == [2, 4, 8, 16, 32, 64, 128, 256, MAX_BACKOFF_SECONDS, MAX_BACKOFF_SECONDS]


async def test_retry_moves_not_before_by_what_the_handler_says_and_counts_the_attempt(
    services: Services, clock: FrozenClock
) -> None:
    handler = Recorder(script=[Retry(42, "429 flood control")])
    event_id = await add(services, clock, 1)
    outbox = dispatcher(services, clock, handler)
    await run(outbox)
    waiting = await row(services, event_id)
    assert waiting.not_before == clock.now() + timedelta(seconds=42)
    assert (waiting.attempts, waiting.last_error) == (1, "429 flood control")
    clock.advance(seconds=41)
    await run(outbox)
    assert len(handler.seen) == 1
    clock.advance(seconds=1)
    await run(outbox)
    assert len(handler.seen) == 2 and (await row(services, event_id)).status == "done"


async def test_not_yet_re_times_the_event_without_counting_an_attempt(
    services: Services, clock: FrozenClock
) -> None:
    handler = Recorder(script=[NotYet(5), NotYet(5)])
    event_id = await add(services, clock, 1)
    outbox = dispatcher(services, clock, handler, max_attempts=1)
    for _ in range(2):
        await run(outbox)
        paced = await row(services, event_id)
        assert (paced.status, paced.attempts) == ("pending", 0)
        assert paced.not_before == clock.now() + timedelta(seconds=5)
        clock.advance(seconds=5)
    await run(outbox)
    done = await row(services, event_id)
    assert (done.status, done.attempts) == ("done", 1), (
        "pacing is not a failure: max_attempts=1 is not used up"
    )


@pytest.mark.parametrize("after", [-5, 0])
async def test_a_retry_now_or_in_the_past_is_due_at_once(
    services: Services, clock: FrozenClock, after: float
) -> None:
    handler = Recorder(script=[Retry(after)])
    await add(services, clock, 1)
    outbox = dispatcher(services, clock, handler)
    await outbox.run_once()
    await outbox.run_once()
    assert handler.numbers == [1, 1]
