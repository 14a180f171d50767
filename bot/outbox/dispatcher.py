"""The outbox dispatcher: delivers what the engine queued, restart-safe, in every app process.

Events are claimed with a lease (``claimed_until``); on PostgreSQL with ``FOR UPDATE SKIP LOCKED`` so
two processes never take the same event. An event whose process died mid-way is taken again when its
lease runs out (delivery is at least once; handlers make repeats harmless where they can). Events
with the same ``ordering_key`` (one person's replies, one escalation's pages) go out in order: a later
one waits while an earlier one is pending.

A handler may also *hold* an event (:class:`Hold`): it cannot go out until the person writes again
(a platform's reply window). It is kept with status ``held``, never retried and never lost, and a
``staff_notice`` event tells the counsellor why; the channel releases it
(:func:`bot.store.outbox.release_held`) when the window opens again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.store.crypto import Crypto
from bot.store.models import OutboxEvent
from bot.store.outbox import enqueue

log = logging.getLogger(__name__)

MAX_BACKOFF_SECONDS = 300.0


class Retry(Exception):
    """Raised by a handler: try this event again after ``after`` seconds (e.g. a 429)."""

    def __init__(self, after: float, reason: str = "retry") -> None:
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


class Dispatcher:
    """Claims due events, runs their handler, records the result."""

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        crypto: Crypto,
        clock: Clock,
        handlers: dict[str, Handler] | None = None,
        *,
        lease_seconds: float = 60.0,
        batch: int = 50,
        max_attempts: int = 50,
        persistent_kinds: frozenset[str] = frozenset({"page", "page_update", "repage"}),
    ) -> None:
        self.sessionmaker = sessionmaker
        self.crypto = crypto
        self.clock = clock
        self.handlers: dict[str, Handler] = dict(handlers or {})
        self.worker = uuid.uuid4().hex[:16]
        self.lease = timedelta(seconds=lease_seconds)
        self.batch = batch
        self.max_attempts = max_attempts
        self.persistent_kinds = persistent_kinds
        self._wake = asyncio.Event()

    def register(self, kind: str, handler: Handler) -> None:
        self.handlers[kind] = handler

    def wake(self) -> None:
        """Run a cycle now (new events were just committed)."""
        self._wake.set()

    async def _claim(self) -> list[OutboxEvent]:
        now = self.clock.now()
        async with self.sessionmaker() as session, session.begin():
            query = (
                select(OutboxEvent)
                .where(
                    OutboxEvent.status == "pending",
                    OutboxEvent.kind.in_(self.handlers),
                    OutboxEvent.not_before <= now,
                    (OutboxEvent.claimed_until.is_(None)) | (OutboxEvent.claimed_until < now),
                )
                .order_by(OutboxEvent.id)
                .limit(self.batch)
            )
            if self.sessionmaker.kw["bind"].dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True)
            candidates = list((await session.execute(query)).scalars())
            if not candidates:
                return []
            keys = {e.ordering_key for e in candidates if e.ordering_key}
            first_other: dict[str, int] = {}
            if keys:
                rows = await session.execute(
                    select(OutboxEvent.ordering_key, func.min(OutboxEvent.id))
                    .where(
                        OutboxEvent.status == "pending",
                        OutboxEvent.ordering_key.in_(keys),
                        OutboxEvent.id.not_in([e.id for e in candidates]),
                    )
                    .group_by(OutboxEvent.ordering_key)
                )
                first_other = {key: first for key, first in rows.all() if key is not None}
            claimed = [
                e
                for e in candidates
                if not (e.ordering_key in first_other and first_other[e.ordering_key] < e.id)
            ]
            for event in claimed:
                event.claimed_until = now + self.lease
                event.claimed_by = self.worker
            return claimed

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
            await enqueue(
                session,
                self.crypto,
                kind="staff_notice",
                payload={"conversation_id": row.conversation_id, "reason": reason, "held_event_id": row.id},
                now=self.clock.now(),
                channel=row.channel,
                conversation_id=row.conversation_id,
            )

    async def _process(self, row: OutboxEvent) -> bool:
        """Run one event; True when it is finished (done or given up)."""
        handler = self.handlers[row.kind]
        attempts = row.attempts + 1
        try:
            await handler(self._decode(row))
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
            await self._hold(row, attempts, exc.reason)
            return True
        except GiveUp as exc:
            log.warning("outbox %s #%d given up: %s", row.kind, row.id, exc)
            await self._finish(row.id, attempts=attempts, status="dead", last_error=str(exc)[:300])
            return True
        except Exception as exc:
            give_up = attempts >= self.max_attempts and row.kind not in self.persistent_kinds
            delay = min(2.0**attempts, MAX_BACKOFF_SECONDS)
            log.warning(
                "outbox %s #%d failed (attempt %d): %s", row.kind, row.id, attempts, type(exc).__name__,
                exc_info=log.isEnabledFor(logging.DEBUG),
            )  # fmt: skip
            await self._finish(
                row.id,
                attempts=attempts,
                status="dead" if give_up else "pending",
                not_before=self.clock.now() + timedelta(seconds=delay),
                last_error=f"{type(exc).__name__}: {exc}"[:300],
            )
            return give_up
        await self._finish(row.id, attempts=attempts, status="done", done_at=self.clock.now())
        return True

    async def run_once(self) -> int:
        """One cycle: claim what is due, run it (in order per key, keys side by side). Returns the count done."""
        claimed = await self._claim()
        groups: dict[str, list[OutboxEvent]] = defaultdict(list)
        for row in claimed:
            groups[row.ordering_key or f"#{row.id}"].append(row)

        async def run_group(rows: list[OutboxEvent]) -> int:
            done = 0
            for index, row in enumerate(rows):
                if not await self._process(row):
                    # Keep the order: release the rest of this key's events for a later cycle.
                    for later in rows[index + 1 :]:
                        await self._finish(later.id)
                    break
                done += 1
            return done

        results = await asyncio.gather(*(run_group(rows) for rows in groups.values()))
        return sum(results)

    async def run_forever(self, interval: float) -> None:
        """Cycle until cancelled; wakes early when :meth:`wake` is called."""
        while True:
            try:
                while await self.run_once():
                    pass
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("outbox cycle failed; trying again")
            # asyncio.timeout, not wait_for: on Python 3.11, cancelling wait_for(event.wait()) just as the
            # event is set can leave the task waiting forever (a hung shutdown, seen in the tests).
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(interval):
                    await self._wake.wait()
            self._wake.clear()
