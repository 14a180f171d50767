"""The outbox dispatcher: delivers what the engine queued, restart-safe, in every app process.

Events are claimed with a lease (``claimed_until``); on PostgreSQL with ``FOR UPDATE SKIP LOCKED`` so
two processes never take the same event (:mod:`bot.outbox.claims`). Events with the same
``ordering_key`` (one person's replies, one escalation's pages) go out in order: a later one waits
while an earlier one is pending.

Emergencies first, whatever else is happening. This used to claim 50 events and wait for all of them,
while the staff group's pacing slept inside a handler: 60 fake emergencies delayed a real person's
safety reply by two minutes. Now:

* events are claimed by *lane* (a reply to a person, then a first page, then the rest);
* a pool of ``workers`` runs events side by side, and a slot freed by a finished event is filled at
  once (no batch waits for its slowest member);
* pacing never sleeps in a worker for long: a handler raises :class:`NotYet` and the event is re-timed,
  without counting as a failed attempt, so one recipient's pace never holds up another recipient.

Crash recovery takes seconds, not a lease: leases are short and renewed by a heartbeat while their
events run, and a restarted process takes back at once the leases its previous life held
(:mod:`bot.outbox.instance`). Delivery is at least once; handlers make repeats harmless where they can.

A handler may also *hold* an event (:class:`Hold`): it cannot go out until the person writes again
(a platform's reply window). It is kept with status ``held``, never retried and never lost, and a
``staff_notice`` event tells the counsellor why; the channel releases it
(:func:`bot.store.outbox.release_held`) when the window opens again.

An event written ``erase_when_done`` (for a person who just deleted their data: the confirmation, the
clean-up of their chat) is deleted as soon as it is finished, whether sent, given up or held; it is
never kept as ``done``, ``dead`` or ``held``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import delete, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.outbox.claims import claim, renew, take_back
from bot.outbox.instance import InstanceSlot, clean_instance_id
from bot.store.crypto import Crypto
from bot.store.models import OutboxEvent
from bot.store.outbox import enqueue
from bot.store.outbox_kinds import (
    CHECKIN_DUE,
    PAGE,
    PAGE_DIGEST,
    PAGE_UPDATE,
    PHONE_CHECKIN,
    REPAGE,
    STAFF_NOTICE,
    StaffNoticePayload,
)

log = logging.getLogger(__name__)

MAX_BACKOFF_SECONDS = 300.0
STOP_SECONDS = 5.0
"""How long a stopping dispatcher waits for its running events and for handing their leases back."""
# A handler still running after this long is stopped and its event tried again later: the heartbeat
# would otherwise keep a wedged send's lease (and its worker) forever.
HANDLER_TIMEOUT_SECONDS = 120.0


class Retry(Exception):
    """Raised by a handler: try this event again after ``after`` seconds (e.g. a 429)."""

    def __init__(self, after: float, reason: str = "retry") -> None:
        super().__init__(reason)
        self.after = after
        self.reason = reason


class NotYet(Exception):
    """Raised by a handler: not a failure, the recipient's pace lets this go in ``after`` seconds.

    The event is re-timed (``not_before``) and its attempts are not counted; the worker is free at once
    for another recipient.
    """

    def __init__(self, after: float, reason: str = "paced") -> None:
        super().__init__(reason)
        self.after = after
        self.reason = reason


class GiveUp(Exception):
    """Raised by a handler: this event can never succeed (e.g. the person blocked the bot)."""


class Hold(Exception):
    """Raised by a handler: this event may not go out until the person writes again.

    ``reason`` is a short code (e.g. ``zalo_oa_window``) that the ``staff_notice`` carries, so the
    counsellor can be told why their message waits. A held event's ``not_before`` is when it was held.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Event:
    """An outbox event as a handler sees it: the payload decrypted."""

    id: int
    kind: str
    channel: str | None
    conversation_id: int | None
    escalation_id: int | None
    attempts: int
    payload: dict[str, Any]
    created_at: datetime


Handler = Callable[[Event], Awaitable[None]]

_running: ContextVar[int | None] = ContextVar("outbox_event", default=None)


def current_event() -> int | None:
    """The id of the outbox event whose handler is running here, if any.

    A sender that paces (Telegram) asks this to decide: inside an event it raises :class:`NotYet`
    rather than sleep; outside (a reply to a counsellor's command) it may wait.
    """
    return _running.get()


class Dispatcher:
    """Claims due events, runs their handler, records the result."""

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        crypto: Crypto,
        clock: Clock,
        handlers: dict[str, Handler] | None = None,
        *,
        lease_seconds: float = 15.0,
        batch: int = 50,
        workers: int = 8,
        max_attempts: int = 50,
        # never given up: pages, and safety check-ins' timers (a missed one must still page someone)
        persistent_kinds: frozenset[str] = frozenset(
            {PAGE, PAGE_UPDATE, REPAGE, PAGE_DIGEST, CHECKIN_DUE, PHONE_CHECKIN}
        ),
        instance_id: str | None = None,
        lock_dir: Path | None = None,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.crypto = crypto
        self.clock = clock
        self.handlers: dict[str, Handler] = dict(handlers or {})
        self.instance_id = clean_instance_id(instance_id or uuid.uuid4().hex[:16])
        self.lock_dir = lock_dir
        self.life = self.instance_id
        self.worker = self._worker_name()
        self.lease = timedelta(seconds=lease_seconds)
        self.batch = batch
        self.workers = max(1, workers)
        self.max_attempts = max_attempts
        self.persistent_kinds = persistent_kinds
        self._wake = asyncio.Event()
        self._slot: InstanceSlot | None = None
        self._running: dict[int, asyncio.Task[bool]] = {}
        # When a cycle last looked for due events (the service's clock): ``/readyz`` says a dispatcher
        # that has not looked for a while is stuck. None until the first cycle.
        self.last_cycle: datetime | None = None

    def _worker_name(self) -> str:
        return f"{self.life}/{uuid.uuid4().hex[:8]}"

    def register(self, kind: str, handler: Handler) -> None:
        self.handlers[kind] = handler

    def wake(self) -> None:
        """Look for due events now (new events were just committed, or a worker is free)."""
        self._wake.set()

    def wake_after(self, seconds: float) -> None:
        """Look for due events in ``seconds`` (an event written now to be sent then)."""
        with contextlib.suppress(RuntimeError):  # no running loop: nobody to wake
            asyncio.get_running_loop().call_later(max(seconds, 0.0) + 0.01, self.wake)

    # -- leases ----------------------------------------------------------------------------------------

    async def recover(self) -> int:
        """Take this process's instance slot and release the leases its previous life held; how many.

        Called when dispatching starts: an event whose process was killed mid-send is then sent again
        within seconds of the restart, not when its lease runs out.
        """
        if self._slot is None:
            self._slot = InstanceSlot(self.instance_id, self.lock_dir)
            self.life = self._slot.life
            self.worker = self._worker_name()
        if not self._slot.trusted:
            return 0
        async with self.sessionmaker() as session, session.begin():
            taken = await take_back(session, life=self.life, worker=self.worker)
        if taken:
            log.warning("outbox: took back %d event(s) left claimed by this instance's previous run", taken)
        return taken

    async def _claim(self, limit: int) -> list[OutboxEvent]:
        now = self.clock.now()
        async with self.sessionmaker() as session, session.begin():
            return await claim(
                session,
                kinds=list(self.handlers),
                now=now,
                limit=limit,
                lease_until=now + self.lease,
                worker=self.worker,
            )

    async def _renew(self) -> None:
        ids = list(self._running)
        if not ids:
            return
        async with self.sessionmaker() as session, session.begin():
            await renew(session, ids=ids, worker=self.worker, until=self.clock.now() + self.lease)

    async def _heartbeat_forever(self) -> None:
        """Keep the running events' leases fresh, so a short lease never runs out under live work."""
        while True:
            await asyncio.sleep(self.lease.total_seconds() / 3)
            try:
                await self._renew()
            except Exception as exc:
                log.warning("outbox: could not renew leases (%s)", type(exc).__name__)

    # -- one event ---------------------------------------------------------------------------------------

    def _decode(self, row: OutboxEvent) -> Event:
        return Event(
            id=row.id,
            kind=row.kind,
            channel=row.channel,
            conversation_id=row.conversation_id,
            escalation_id=row.escalation_id,
            attempts=row.attempts,
            payload=self.crypto.decrypt_json(row.payload_enc),
            created_at=row.created_at,
        )

    async def _finish(self, event_id: int, **values: Any) -> None:
        async with self.sessionmaker() as session, session.begin():
            await session.execute(
                update(OutboxEvent)
                .where(OutboxEvent.id == event_id, OutboxEvent.claimed_by == self.worker)
                .values(claimed_until=None, claimed_by=None, **values)
            )

    async def _end(self, row: OutboxEvent, **values: Any) -> None:
        """Record a finished event, or delete it when it was written ``erase_when_done``."""
        if not row.erase_when_done:
            await self._finish(row.id, **values)
            return
        async with self.sessionmaker() as session, session.begin():
            await session.execute(
                delete(OutboxEvent).where(OutboxEvent.id == row.id, OutboxEvent.claimed_by == self.worker)
            )

    async def _hold(self, row: OutboxEvent, attempts: int, reason: str) -> None:
        """Park the event (status ``held``) and, in the same transaction, tell staff why."""
        async with self.sessionmaker() as session, session.begin():
            result = await session.execute(
                update(OutboxEvent)
                .where(OutboxEvent.id == row.id, OutboxEvent.claimed_by == self.worker)
                .values(
                    claimed_until=None,
                    claimed_by=None,
                    status="held",
                    attempts=attempts,
                    last_error=reason[:300],
                    not_before=self.clock.now(),  # for a held event: when it was held
                )
            )
            if not result.rowcount:  # type: ignore[attr-defined]
                return  # the lease ran out and another worker has it now
            notice: StaffNoticePayload = {
                "conversation_id": row.conversation_id,
                "reason": reason,
                "held_event_id": row.id,
            }
            await enqueue(
                session,
                self.crypto,
                kind=STAFF_NOTICE,
                payload=notice,
                now=self.clock.now(),
                channel=row.channel,
                conversation_id=row.conversation_id,
            )

    async def _call(self, row: OutboxEvent) -> None:
        token = _running.set(row.id)
        try:
            async with asyncio.timeout(HANDLER_TIMEOUT_SECONDS):
                await self.handlers[row.kind](self._decode(row))
        finally:
            _running.reset(token)

    async def _process(self, row: OutboxEvent) -> bool:
        """Run one event; True when it is finished (done or given up)."""
        attempts = row.attempts + 1
        try:
            await self._call(row)
        except NotYet as exc:
            after = max(exc.after, 0.0)
            await self._finish(row.id, not_before=self.clock.now() + timedelta(seconds=after))
            with contextlib.suppress(RuntimeError):  # no running loop: nobody to wake
                asyncio.get_running_loop().call_later(after, self.wake)
            return False
        except Retry as exc:
            await self._finish(
                row.id,
                attempts=attempts,
                not_before=self.clock.now() + timedelta(seconds=max(exc.after, 0.0)),
                last_error=exc.reason[:300],
            )
            return False
        except Hold as exc:
            log.info("outbox %s #%d held: %s", row.kind, row.id, exc.reason)
            if row.erase_when_done:  # the person deleted their data: nobody waits for this any more
                await self._end(row)
            else:
                await self._hold(row, attempts, exc.reason)
            return True
        except GiveUp as exc:
            log.warning("outbox %s #%d given up: %s", row.kind, row.id, exc)
            await self._end(row, attempts=attempts, status="dead", last_error=str(exc)[:300])
            return True
        except Exception as exc:
            give_up = attempts >= self.max_attempts and row.kind not in self.persistent_kinds
            delay = min(2.0**attempts, MAX_BACKOFF_SECONDS)
            log.warning(
                "outbox %s #%d failed (attempt %d): %s", row.kind, row.id, attempts, type(exc).__name__,
                exc_info=log.isEnabledFor(logging.DEBUG),
            )  # fmt: skip
            values: dict[str, Any] = {
                "attempts": attempts,
                "status": "dead" if give_up else "pending",
                "not_before": self.clock.now() + timedelta(seconds=delay),
                "last_error": f"{type(exc).__name__}: {exc}"[:300],
            }
            await (self._end(row, **values) if give_up else self._finish(row.id, **values))
            return give_up
        await self._end(row, attempts=attempts, status="done", done_at=self.clock.now())
        return True

    # -- cycles ------------------------------------------------------------------------------------------

    async def run_once(self) -> int:
        """Claim what is due now (up to ``batch``, one per ordering key) and run it; how many finished.

        For tests and one-off runs; the service runs :meth:`run_forever`.
        """
        claimed = await self._claim(self.batch)
        self.last_cycle = self.clock.now()
        results = await asyncio.gather(*(self._process(row) for row in claimed))
        return sum(results)

    def _start(self, row: OutboxEvent) -> None:
        task = asyncio.create_task(self._process(row), name=f"outbox-{row.kind}-{row.id}")
        self._running[row.id] = task

        def finished(done: asyncio.Task[bool]) -> None:
            self._running.pop(row.id, None)
            if not done.cancelled() and done.exception() is not None:
                log.error("outbox %s #%d could not be recorded: %r", row.kind, row.id, done.exception())
            self.wake()  # a free worker, and perhaps the next event of the same ordering key

        task.add_done_callback(finished)

    async def run_forever(self, interval: float) -> None:
        """Run events until cancelled: a pool of ``workers``, each slot refilled as soon as it is free.

        Looks for due events when woken (:meth:`wake`: a commit, a finished event, a paced event's
        time) and at least every ``interval`` seconds.
        """
        try:
            await self.recover()
        except Exception:
            log.exception("outbox: could not take back earlier leases; they will run out instead")
        heartbeat = asyncio.create_task(self._heartbeat_forever(), name="outbox-heartbeat")
        try:
            while True:
                free = self.workers - len(self._running)
                claimed: list[OutboxEvent] = []
                if free > 0:
                    try:
                        claimed = await self._claim(free)
                        self.last_cycle = self.clock.now()
                    except Exception:
                        log.exception("outbox claim failed; trying again")
                else:
                    self.last_cycle = self.clock.now()  # busy with running events is alive too
                for row in claimed:
                    self._start(row)
                if claimed:
                    continue  # more may be due (the next of a key, another lane)
                # asyncio.timeout, not wait_for: on Python 3.11, cancelling wait_for(event.wait()) just as
                # the event is set can leave the task waiting forever (a hung shutdown, seen in the tests).
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(interval):
                        await self._wake.wait()
                self._wake.clear()
        finally:
            heartbeat.cancel()
            # Wait for the heartbeat to roll back: a renewal cancelled mid-transaction still holds its row
            # locks on PostgreSQL until then, and handing the leases back below would wait for them.
            with contextlib.suppress(asyncio.CancelledError, Exception):
                async with asyncio.timeout(STOP_SECONDS):
                    await heartbeat
            await self._stop_running()

    async def _stop_running(self) -> None:
        """Shutting down: stop the running events and hand their leases back for others to take now.

        Bounded: a shutdown never hangs on a stuck send or a lock (seen once in CI on PostgreSQL); a lease
        that could not be handed back runs out by itself within ``lease_seconds``.
        """
        tasks = dict(self._running)
        for task in tasks.values():
            task.cancel()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(STOP_SECONDS):
                for task in tasks.values():
                    with contextlib.suppress(asyncio.CancelledError, Exception):
                        await task
        with contextlib.suppress(Exception):
            async with asyncio.timeout(STOP_SECONDS):
                async with self.sessionmaker() as session, session.begin():
                    await session.execute(
                        update(OutboxEvent)
                        .where(OutboxEvent.id.in_(list(tasks)), OutboxEvent.claimed_by == self.worker)
                        .values(claimed_until=None, claimed_by=None)
                    )
        if self._slot is not None:
            self._slot.release()
            self._slot = None
