"""A person's inbox on a channel that fetches its messages (the web chat): read through here, not by the
channel querying the outbox.

A counsellor's message to a web chat person is an ``inbox`` outbox event. The runtime builds one
:class:`Inbox` per channel that fetches, and hands it to that channel. It reads and marks the waiting
messages (:meth:`Inbox.take`), tells the newest waiting event per person (:meth:`Inbox.newest`, for the
doorbell of :mod:`bot.channels.webchat_push`), and rings the doorbell when this process commits an
inbox event (a SQLAlchemy hook) or when another process does (``NOTIFY``, :mod:`bot.store.notify`).
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import Engine, event, func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session

from bot.clock import Clock
from bot.messages import Reply
from bot.store import conversations
from bot.store.crypto import Crypto
from bot.store.models import Conversation, OutboxEvent
from bot.store.notify import WEBCHAT, Listener

KIND = "inbox"
_INFO_KEY = "webchat_inbox_written"


class Inbox:
    """The ``inbox`` events of one channel's people."""

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        crypto: Crypto,
        clock: Clock,
        *,
        channel: str,
        db: AsyncEngine | None = None,
        listener: Listener | None = None,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.crypto = crypto
        self.clock = clock
        self.channel = channel
        self.db = db
        self.listener = listener

    def user_key(self, user_id: str) -> str:
        """The pseudonymous key of a person on this channel."""
        return self.crypto.user_key(self.channel, user_id)

    async def take(self, user_id: str) -> list[Reply]:
        """Messages waiting for this person, oldest first; marks them read."""
        now = self.clock.now()
        async with self.sessionmaker() as session, session.begin():
            conversation = await conversations.find(
                session, channel=self.channel, user_key=self.user_key(user_id)
            )
            if conversation is None:
                return []
            rows = await session.execute(
                select(OutboxEvent)
                .where(
                    OutboxEvent.kind == KIND,
                    OutboxEvent.conversation_id == conversation.id,
                    OutboxEvent.status == "pending",
                )
                .order_by(OutboxEvent.id)
            )
            replies: list[Reply] = []
            for event_row in rows.scalars():
                payload = self.crypto.decrypt_json(event_row.payload_enc)
                replies.extend(Reply.from_json(r) for r in payload["replies"])
                event_row.status = "done"
                event_row.done_at = now
            return replies

    async def newest(self, user_keys: list[str]) -> Iterable[tuple[str, int]]:
        """The id of the newest waiting event of each of these people (by key) who has one."""
        query = (
            select(Conversation.user_key, func.max(OutboxEvent.id))
            .join(OutboxEvent, OutboxEvent.conversation_id == Conversation.id)
            .where(
                Conversation.channel == self.channel,
                Conversation.user_key.in_(user_keys),
                OutboxEvent.kind == KIND,
                OutboxEvent.status == "pending",
            )
            .group_by(Conversation.user_key)
        )
        async with self.sessionmaker() as session:
            return [(str(key), int(newest)) for key, newest in (await session.execute(query)).all()]

    def ring(self, check_soon: Callable[[], None], on_state: Callable[[bool], None]) -> None:
        """Call ``check_soon`` when an inbox event is committed: by this process (through ``db``) or, on
        PostgreSQL, by another one; ``on_state`` hears whether other processes' notifications arrive."""
        if self.db is not None:
            _WATCHERS[self.db.sync_engine] = check_soon
        if self.listener is not None:
            self.listener.subscribe(WEBCHAT, check_soon, on_state=on_state)

    def unring(self) -> None:
        """Stop ringing for this process's commits (the service is stopping)."""
        if self.db is not None:
            _WATCHERS.pop(self.db.sync_engine, None)


# One doorbell per database engine of this process; the hooks below look the committing engine up here.
_WATCHERS: weakref.WeakKeyDictionary[Engine, Callable[[], None]] = weakref.WeakKeyDictionary()


@event.listens_for(Session, "after_flush")
def _note_inbox_rows(session: Session, _context: Any) -> None:
    if any(isinstance(row, OutboxEvent) and row.kind == KIND for row in session.new):
        session.info[_INFO_KEY] = True


@event.listens_for(Session, "after_commit")
def _ring_after_commit(session: Session) -> None:
    if not session.info.pop(_INFO_KEY, False):
        return
    bind = session.bind
    check_soon = _WATCHERS.get(bind) if isinstance(bind, Engine) else None
    if check_soon is not None:
        check_soon()


@event.listens_for(Session, "after_rollback")
def _forget_after_rollback(session: Session) -> None:
    session.info.pop(_INFO_KEY, None)
