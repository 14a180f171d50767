"""The greeting's one write, grouped: calls answered together are recorded in one transaction.

Every new call writes its contact row before it is greeted (a caller who hangs up during the welcome
is counted) and reads the language of the caller's conversation (a returning caller is greeted in it).
With SQLite one transaction at a time holds the database, and most of a small transaction's cost is the
transaction itself; so calls that arrive while one is being written wait for it and are written
together in the next one: one select and one insert for all of them. Each greeting is still answered
only once its row is committed. A call alone is written at once, as before.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import select

from bot.channels.door import ChannelStore
from bot.store.contacts import new_contact_values
from bot.store.models import Contact, Conversation
from bot.store.upsert import dialect_name, upsert
from ivr.calls import CHANNEL, call_ref
from ivr.state import Caller

if TYPE_CHECKING:
    from bot.store.upsert import Upsert

log = logging.getLogger(__name__)

MAX_BATCH = 200
"""At most this many calls in one transaction (a contact row is 17 values; SQLite takes 32,766)."""


@dataclass
class _Waiting:
    caller: Caller
    now: datetime
    answer: asyncio.Future[str] = field(default_factory=lambda: asyncio.get_running_loop().create_future())


class AnsweredCalls:
    """Records answered calls (one contact row each) in grouped transactions; gives each its language."""

    def __init__(self, store: ChannelStore, default_locale: str) -> None:
        self.store = store
        self.default_locale = default_locale
        self._waiting: list[_Waiting] = []
        self._writer: asyncio.Task[None] | None = None

    async def answer(self, caller: Caller, now: datetime) -> str:
        """Record the call as answered (once, however often Twilio asks); the caller's language."""
        waiting = _Waiting(caller, now)
        self._waiting.append(waiting)
        if self._writer is None or self._writer.done():
            # Its own task: a request that goes away must not stop the writes of the others.
            self._writer = asyncio.create_task(self._write_all())
        return await asyncio.shield(waiting.answer)

    async def _write_all(self) -> None:
        while self._waiting:
            batch, self._waiting = self._waiting[:MAX_BATCH], self._waiting[MAX_BATCH:]
            try:
                locales = await self._write(batch)
            except Exception as exc:  # the database refused: each request fails (Twilio retries it)
                for waiting in batch:
                    if not waiting.answer.done():
                        waiting.answer.set_exception(exc)
                continue
            for waiting, locale in zip(batch, locales, strict=True):
                if not waiting.answer.done():
                    waiting.answer.set_result(locale)

    async def _write(self, batch: Sequence[_Waiting]) -> list[str]:
        crypto = self.store.crypto
        user_keys = [crypto.user_key(CHANNEL, waiting.caller.user_id) for waiting in batch]
        async with self.store.sessionmaker() as session, session.begin():
            query = select(Conversation.user_key, Conversation.locale).where(
                Conversation.channel == CHANNEL, Conversation.user_key.in_(set(user_keys))
            )
            known = dict((await session.execute(query)).tuples().all())
            locales = [known.get(user_key) or self.default_locale for user_key in user_keys]
            rows = [
                new_contact_values(
                    channel=CHANNEL,
                    stats_key=crypto.stats_key(user_key),
                    started_at=waiting.now,
                    ended_at=waiting.now,
                    locale=locale,
                    call_ref_hash=call_ref(crypto, waiting.caller),
                )
                for waiting, user_key, locale in zip(batch, user_keys, locales, strict=True)
            ]
            await session.execute(_insert(dialect_name(session)), rows)
        return locales


@functools.cache
def _insert(dialect: str) -> Upsert:
    """The contact rows' insert, skipping a call already recorded (Twilio retried its request).

    On the table, not the ORM class, and run with the rows as parameters (``executemany``): compiled
    once and cached, whatever the number of rows. An ``insert(...).values(rows)`` would be compiled
    again for each batch, at a cost that grows with its rows (measured: most of a greeting's CPU time).
    """
    return upsert(dialect, Contact.__table__).on_conflict_do_nothing(index_elements=["call_ref_hash"])
