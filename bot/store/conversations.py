"""Data access for conversations, transcripts and de-duplication (deleting: :mod:`bot.store.erasure`;
purging: :mod:`bot.store.retention`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from bot.store import compiled
from bot.store.compiled import Ran, Statement
from bot.store.crypto import Crypto
from bot.store.locking import for_update
from bot.store.models import Contact, Conversation, Message, ProcessedMessage
from bot.store.upsert import dialect_name, upsert

# The tables themselves: statements on them skip the ORM (see run_compiled).
_MESSAGES = cast(Table, Message.__table__)
_PROCESSED = cast(Table, ProcessedMessage.__table__)
_CONVERSATIONS = cast(Table, Conversation.__table__)
_CONTACTS = cast(Table, Contact.__table__)

# The statements of every message, built once: building one costs more than running it (SQLAlchemy's
# coercions and cache key); a statement kept keeps its cache key, so each run finds its compiled form at once.
_BY_USER = (Conversation.channel == bindparam("channel"), Conversation.user_key == bindparam("user_key"))
_GET_WITH_CONTACT = (
    select(Conversation, Contact).outerjoin(Contact, Contact.id == Conversation.contact_id).where(*_BY_USER)
)
_GET_WITH_CONTACT_LOCKED = _GET_WITH_CONTACT.with_for_update(of=Conversation)  # not the outer join's side
_FIND = select(Conversation).where(*_BY_USER)
# Run compiled, with plain tuples (bot.store.compiled).
_INSERT_MESSAGES = Statement(
    insert(_MESSAGES), ["conversation_id", "direction", "body_enc", "transport_ref_enc", "created_at"]
)
_RECORD_REPLIES = Statement(
    update(_PROCESSED)
    .where(_PROCESSED.c.channel == bindparam("b_channel"), _PROCESSED.c.ref_hash == bindparam("b_ref_hash"))
    .values(replies_enc=bindparam("replies_enc"), conversation_id=bindparam("conversation_id"))
)
_CLAIM_COLUMNS = ["channel", "ref_hash", "replies_enc", "created_at"]
_CLAIM: dict[str, Statement] = {}  # INSERT ... ON CONFLICT DO NOTHING of processed_messages, by dialect


async def get_or_create(
    session: AsyncSession, *, channel: str, user_key: str, now: datetime, locale: str
) -> tuple[Conversation, Contact | None, bool]:
    """The conversation of this person on this channel, locked for this transaction (new if none), its
    current contact (read in the same statement; None if it has none) and whether it is new."""
    postgresql = dialect_name(session) == "postgresql"
    parameters = {"channel": channel, "user_key": user_key}
    if postgresql:
        row = (await session.execute(_GET_WITH_CONTACT_LOCKED, parameters)).one_or_none()
        if row is not None:
            return row[0], row[1], False
    else:
        loaded = await session.run_sync(_load_with_contact, parameters)
        if loaded is not None:
            return loaded[0], loaded[1], False
    conversation = Conversation(
        channel=channel,
        user_key=user_key,
        locale=locale,
        locale_chosen=False,
        context={},
        created_at=now,
        last_seen_at=now,
    )
    if not postgresql:
        # SQLite: this transaction holds the write lock from its start (BEGIN IMMEDIATE); nobody else can
        # have created it since the query above, and a savepoint would cost two statements more.
        session.add(conversation)
        await session.flush()
        return conversation, None, True
    try:
        async with session.begin_nested():
            session.add(conversation)
            await session.flush()
    except IntegrityError:
        # Another process created it a moment ago.
        again = for_update(session, _FIND)
        conversation = (await session.execute(again, {"channel": channel, "user_key": user_key})).scalar_one()
        return conversation, None, False
    return conversation, None, True


_CONVERSATION_COLUMNS = [column.key for column in _CONVERSATIONS.columns]
_CONTACT_COLUMNS = [column.key for column in _CONTACTS.columns]
_LOAD_WITH_CONTACT = Statement(
    select(*_CONVERSATIONS.columns, *_CONTACTS.columns)
    .select_from(_CONVERSATIONS.outerjoin(_CONTACTS, _CONTACTS.c.id == _CONVERSATIONS.c.contact_id))
    .where(
        _CONVERSATIONS.c.channel == bindparam("channel"), _CONVERSATIONS.c.user_key == bindparam("user_key")
    )
)


def _load_with_contact(
    session: Session, parameters: dict[str, str]
) -> tuple[Conversation, Contact | None] | None:
    """SQLite: the conversation and its contact, as ``_GET_WITH_CONTACT`` loads them through the ORM, by
    one compiled select (:mod:`bot.store.compiled`) and :func:`~bot.store.compiled.persistent` objects."""
    compiled.flush(session)  # as session.execute would (autoflush)
    row = _LOAD_WITH_CONTACT.first(compiled.connection_of(session), parameters)
    if row is None:
        return None
    width = len(_CONVERSATION_COLUMNS)
    conversation = compiled.persistent(
        session, Conversation, dict(zip(_CONVERSATION_COLUMNS, row[:width], strict=True))
    )
    contact_values = dict(zip(_CONTACT_COLUMNS, row[width:], strict=True))
    contact = None if contact_values["id"] is None else compiled.persistent(session, Contact, contact_values)
    return conversation, contact


async def find(session: AsyncSession, *, channel: str, user_key: str) -> Conversation | None:
    return (await session.execute(_FIND, {"channel": channel, "user_key": user_key})).scalar_one_or_none()


async def add_message(
    session: AsyncSession,
    crypto: Crypto,
    *,
    conversation_id: int,
    direction: str,
    text: str,
    now: datetime,
    transport_ref: str | None = None,
) -> Message:
    message = Message(
        conversation_id=conversation_id,
        direction=direction,
        body_enc=crypto.encrypt(text),
        transport_ref_enc=crypto.encrypt(transport_ref) if transport_ref else None,
        created_at=now,
    )
    session.add(message)
    return message


async def add_messages(
    session: AsyncSession,
    crypto: Crypto,
    *,
    conversation_id: int,
    lines: Sequence[tuple[str, str]],
    now: datetime,
) -> None:
    """Transcript lines (direction, text), in order, in one statement (an ``executemany``)."""
    if lines:
        await run_compiled(
            session,
            _INSERT_MESSAGES,
            [
                {"conversation_id": conversation_id, "direction": direction, "body_enc": crypto.encrypt(text),
                 "transport_ref_enc": None, "created_at": now}
                for direction, text in lines
            ],
            many=True,
        )  # fmt: skip


async def transcript(
    session: AsyncSession, crypto: Crypto, conversation_id: int
) -> list[tuple[str, str, datetime]]:
    """The decrypted transcript: (direction, text, time), oldest first. Not audited: staff read it through
    ``Desk.transcript``, which is."""
    rows = await session.execute(
        select(Message)
        .where(Message.conversation_id == conversation_id)
        .order_by(Message.created_at, Message.id)
    )
    return [(m.direction, crypto.decrypt(m.body_enc), m.created_at) for m in rows.scalars()]


async def claim_transport_id(
    session: AsyncSession, *, channel: str, ref_hash: str, now: datetime
) -> ProcessedMessage | None:
    """Record a transport message id in one statement; None when it is new, else the earlier record (with
    the replies it got). On PostgreSQL a second transaction claiming the same id waits here until the first
    one ends: then it sees the record (committed) or claims it (rolled back)."""
    values = {"channel": channel, "ref_hash": ref_hash, "replies_enc": None, "created_at": now}
    claimed = await run_compiled(session, _claim(session), values)
    if claimed.rowcount == 1:
        return None
    existing = await session.get(ProcessedMessage, (channel, ref_hash), populate_existing=True)
    if existing is None:  # cannot happen: the conflicting row is committed (or deleted: try again)
        raise RuntimeError("a processed message conflicted and is gone")
    return existing


async def record_replies(
    session: AsyncSession, *, channel: str, ref_hash: str, replies_enc: str, conversation_id: int | None
) -> None:
    """Keep the replies a claimed transport message got (for its retries), tied to its conversation."""
    await run_compiled(
        session,
        _RECORD_REPLIES,
        {
            "b_channel": channel,
            "b_ref_hash": ref_hash,
            "replies_enc": replies_enc,
            "conversation_id": conversation_id,
        },
    )


async def run_compiled(
    session: AsyncSession, statement: Statement, parameters: Any, *, many: bool = False
) -> Ran:
    """Run a compiled statement (:mod:`bot.store.compiled`) on the session's connection, after flushing
    the session's pending changes (as ``session.execute`` would, so the statements keep their order; the
    changed conversation and contact by compiled updates too): on the hot path, each message."""

    def run(sync_session: Session) -> Ran:
        compiled.flush(sync_session)
        connection = compiled.connection_of(sync_session)
        if many:
            return statement.run_many(connection, parameters)
        return statement.run(connection, parameters)

    return await session.run_sync(run)


def _claim(session: AsyncSession) -> Statement:
    """``INSERT ... ON CONFLICT DO NOTHING`` of processed_messages, in the session's dialect (built once)."""
    name = dialect_name(session)
    statement = _CLAIM.get(name)
    if statement is None:
        statement = _CLAIM[name] = Statement(
            upsert(name, _PROCESSED).on_conflict_do_nothing(), _CLAIM_COLUMNS
        )
    return statement
