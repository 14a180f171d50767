"""Pacing messages under Telegram's rate limits.

Telegram asks bots to stay around one message a second in one chat (short bursts are tolerated),
twenty a minute in one group (the staff group), and about thirty a second overall, and answers 429
with ``retry_after`` beyond that. The limiter spaces
messages so that 429s stay rare; one that still comes back is retried through the outbox.

It keeps one "theoretical arrival time" per chat and one overall (the generic cell rate algorithm):
a message may go once both allow it, and booking it moves both on by one interval. It counts within
one process: several processes sending with the same bot share Telegram's limits, and the 429 path
covers what the limiter cannot see.

Inside the outbox nobody waits for a slot: :meth:`RateLimiter.book` reserves one under the event's key
and says how far off it is; the event is re-timed to then (``NotYet``) and, when it comes back, finds
its slot still reserved. So the staff group's 20 a minute never holds up a reply to someone else.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Hashable

MAX_TRACKED_CHATS = 10_000
MAX_BOOKINGS = 10_000


class RateLimiter:
    """Waits before a message until it fits both the per-chat and the overall rate."""

    def __init__(
        self,
        *,
        overall_per_second: float = 30.0,
        chat_per_second: float = 1.0,
        chat_burst: int = 3,
        group_per_minute: float = 20.0,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.overall_interval = 1.0 / overall_per_second
        self.overall_burst = max(1, int(overall_per_second))
        self.chat_interval = 1.0 / chat_per_second
        self.chat_burst = max(1, chat_burst)
        self.group_interval = 60.0 / group_per_minute
        self._monotonic = monotonic
        self._sleep = sleep
        self._chats: dict[int, float] = {}
        self._overall = 0.0
        self._booked: dict[Hashable, float] = {}

    def reserve(self, chat_id: int) -> float:
        """Book the next slot for a message to ``chat_id``; how many seconds to wait for it.

        Groups and supergroups (negative chat ids) are paced at their per-minute rate.
        """
        now = self._monotonic()
        interval = self.group_interval if chat_id < 0 else self.chat_interval
        chat_due = max(self._chats.get(chat_id, now), now)
        overall_due = max(self._overall, now)
        at = max(
            now,
            chat_due - (self.chat_burst - 1) * interval,
            overall_due - (self.overall_burst - 1) * self.overall_interval,
        )
        self._chats[chat_id] = max(chat_due, at) + interval
        self._overall = max(overall_due, at) + self.overall_interval
        if len(self._chats) > MAX_TRACKED_CHATS:
            self._chats = {chat: due for chat, due in self._chats.items() if due > now}
        return at - now

    def book(self, chat_id: int, key: Hashable) -> float:
        """Seconds until the slot reserved under ``key`` for ``chat_id`` (reserving one the first time).

        Asking again with the same key gives the same slot, not a new one; a slot that is due is
        handed out (forgotten) and 0 returned, so the next message with that key books afresh.
        """
        now = self._monotonic()
        at = self._booked.get(key)
        if at is None:
            at = now + self.reserve(chat_id)
        if at <= now:
            self._booked.pop(key, None)
            return 0.0
        self._booked[key] = at
        if len(self._booked) > MAX_BOOKINGS:  # events that never came back (gone, sent elsewhere)
            self._booked = {k: due for k, due in self._booked.items() if due > now - 600}
        return at - now

    def hand_out(self, key: Hashable) -> None:
        """The slot booked under ``key`` is being used now (its sender waits for it in place)."""
        self._booked.pop(key, None)

    async def sleep(self, seconds: float) -> None:
        await self._sleep(seconds)

    async def wait(self, chat_id: int) -> None:
        """Sleep until a message to ``chat_id`` may go (at once when under both limits)."""
        delay = self.reserve(chat_id)
        if delay > 0:
            await self._sleep(delay)
