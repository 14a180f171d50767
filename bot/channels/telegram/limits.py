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
        """Seconds until a message to ``chat_id`` may go, keeping the chat's slot under ``key``; 0 = go now.

        The chat's slot is booked the first time; asking again with the same key finds the same slot
        rather than a later one. Once the slot is due, the overall rate is checked for *now* (and booked
        only when the message goes): a slot far in the future, such as the staff group's next one, so
        never takes a share of the overall rate from other chats in the meantime. Returns 0 when the
        message may go (the key is then forgotten, so that a next message books afresh).
        """
        now = self._monotonic()
        at = self._booked.get(key)
        if at is None:
            at = self._chat_slot(chat_id, now)
        if at > now:
            self._booked[key] = at
            if len(self._booked) > MAX_BOOKINGS:  # events that never came back (gone, sent elsewhere)
                self._booked = {k: due for k, due in self._booked.items() if due > now - 600}
            return at - now
        overall_at = max(now, self._overall - (self.overall_burst - 1) * self.overall_interval)
        if overall_at > now:
            self._booked[key] = at  # keep the chat's slot: only the overall rate is in the way
            return overall_at - now
        self._overall = max(self._overall, now) + self.overall_interval
        self._booked.pop(key, None)
        return 0.0

    def _chat_slot(self, chat_id: int, now: float) -> float:
        interval = self.group_interval if chat_id < 0 else self.chat_interval
        chat_due = max(self._chats.get(chat_id, now), now)
        at = max(now, chat_due - (self.chat_burst - 1) * interval)
        self._chats[chat_id] = max(chat_due, at) + interval
        return at

    async def sleep(self, seconds: float) -> None:
        await self._sleep(seconds)

    async def wait(self, chat_id: int) -> None:
        """Sleep until a message to ``chat_id`` may go (at once when under both limits)."""
        delay = self.reserve(chat_id)
        if delay > 0:
            await self._sleep(delay)
