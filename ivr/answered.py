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
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, select

from bot.channels.door import ChannelStore
from bot.store.contacts import nothing_counted
from bot.store.models import Contact, Conversation
from bot.store.upsert import upsert
from ivr.calls import CHANNEL, call_ref
from ivr.state import Caller

if TYPE_CHECKING:
    from sqlalchemy.engine import Dialect

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
            connection = await session.connection()
            found = await connection.execute(_LANGUAGES, {"user_keys": sorted(set(user_keys))})
            known: dict[str, str] = {user_key: locale for user_key, locale in found}
            locales = [known.get(user_key) or self.default_locale for user_key in user_keys]
            insert = _contact_insert(connection.dialect)
            rows = [
                insert.parameters(
                    channel=CHANNEL,
                    stats_key=crypto.stats_key(user_key),
                    started_at=waiting.now,
                    ended_at=waiting.now,
                    locale=locale,
                    call_ref_hash=call_ref(crypto, waiting.caller),
                )
                for waiting, user_key, locale in zip(batch, user_keys, locales, strict=True)
            ]
            await connection.exec_driver_sql(insert.sql, rows)
        return locales


_LANGUAGES = select(Conversation.user_key, Conversation.locale).where(
    Conversation.channel == CHANNEL, Conversation.user_key.in_(bindparam("user_keys", expanding=True))
)
"""The language of each caller's conversation (built once: a select built per batch cost more than the
insert of its rows)."""


@dataclass(frozen=True)
class _ContactInsert:
    """The contact rows' insert for one database, skipping a call already recorded (Twilio retried its
    request), compiled once, run with plain tuples (``executemany``).

    SQLAlchemy's own ``execute(insert, rows)`` turns every row's 19 values through their types (4 JSON
    lists, 2 datetimes, 6 booleans, ...) on each run: most of a greeting's database time, measured. Here
    each varying column is turned by the same processor SQLAlchemy would use, and the columns that are the
    same for every new contact (:func:`~bot.store.contacts.nothing_counted`, and the columns' own
    defaults) are turned once.
    """

    sql: str
    # per placeholder, in order: (the row's value to turn by the processor) or (the value, turned once)
    plan: tuple[tuple[str | None, Callable[[Any], Any] | None, Any], ...]

    def parameters(self, **row: object) -> tuple[Any, ...]:
        return tuple(
            [
                constant if key is None else process(row[key]) if process is not None else row[key]
                for key, process, constant in self.plan
            ]
        )


_VARYING = ("channel", "stats_key", "started_at", "ended_at", "locale", "call_ref_hash")


@functools.cache
def _compiled_insert(dialect_name: str) -> Upsert:
    return upsert(dialect_name, Contact.__table__).on_conflict_do_nothing(index_elements=["call_ref_hash"])


_inserts: dict[str, _ContactInsert] = {}


def _contact_insert(dialect: Dialect) -> _ContactInsert:
    """The insert for ``dialect`` (a positional paramstyle: SQLite's ``?``, asyncpg's ``$n``)."""
    cached = _inserts.get(dialect.name)
    if cached is not None:
        return cached
    table = Contact.__table__
    constants = nothing_counted()
    compiled = _compiled_insert(dialect.name).compile(dialect=dialect, column_keys=[*_VARYING, *constants])
    if compiled.positiontup is None:
        raise RuntimeError(f"{dialect.name}: a positional paramstyle is needed for the greeting's insert")
    plan: list[tuple[str | None, Callable[[Any], Any] | None, Any]] = []
    for key in compiled.positiontup:
        column = table.c[key]
        process = column.type.dialect_impl(dialect).bind_processor(dialect)
        if key in _VARYING:
            plan.append((key, process, None))
            continue
        if key in constants:
            value = constants[key]
        elif column.default is not None and column.default.is_scalar:
            value = column.default.arg
        else:
            raise RuntimeError(f"contacts.{key}: no value for the greeting's insert")
        plan.append((None, None, process(value) if process is not None else value))
    _inserts[dialect.name] = insert = _ContactInsert(compiled.string, tuple(plan))
    return insert
