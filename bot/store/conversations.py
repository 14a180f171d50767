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
    if dialect_name(session) != "postgresql":
        return await session.run_sync(_get_or_create_sqlite, channel, user_key, now, locale)
    parameters = {"channel": channel, "user_key": user_key}
    row = (await session.execute(_GET_WITH_CONTACT_LOCKED, parameters)).one_or_none()
    if row is not None:
        return row[0], row[1], False
    conversation = _new_conversation(channel, user_key, now, locale)
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


async def open_message(
    session: AsyncSession, *, channel: str, user_key: str, ref_hash: str | None, now: datetime, locale: str
) -> ProcessedMessage | tuple[Conversation, Contact | None, bool]:
    """A message's first database work: :func:`claim_transport_id` (when it has a transport id's
    ``ref_hash``), then, if the id is new, :func:`get_or_create`. The earlier record when the id was seen
    before (nothing more is read then), else what :func:`get_or_create` gives.

    On SQLite both run in one ``run_sync`` (one switch into SQLAlchemy's greenlet instead of two: each costs
    about as much as the statements it carries); on PostgreSQL as the two functions do."""
    if dialect_name(session) == "postgresql":
        if ref_hash is not None:
            processed = await claim_transport_id(session, channel=channel, ref_hash=ref_hash, now=now)
            if processed is not None:
                return processed
        return await get_or_create(session, channel=channel, user_key=user_key, now=now, locale=locale)

    def run(sync_session: Session) -> ProcessedMessage | tuple[Conversation, Contact | None, bool]:
        if ref_hash is not None:
            processed = _claim_sync(sync_session, channel, ref_hash, now)
            if processed is not None:
                return processed
        return _get_or_create_sqlite(sync_session, channel, user_key, now, locale)

    return await session.run_sync(run)


def _new_conversation(channel: str, user_key: str, now: datetime, locale: str) -> Conversation:
    return Conversation(**_new_conversation_values(channel, user_key, now, locale))


def _new_conversation_values(channel: str, user_key: str, now: datetime, locale: str) -> dict[str, Any]:
    return {
        "channel": channel,
        "user_key": user_key,
        "locale": locale,
        "locale_chosen": False,
        "context": {},
        "created_at": now,
        "last_seen_at": now,
    }


def _get_or_create_sqlite(
    session: Session, channel: str, user_key: str, now: datetime, locale: str
) -> tuple[Conversation, Contact | None, bool]:
    """:func:`get_or_create` on SQLite, in SQLAlchemy's greenlet."""
    loaded = _load_with_contact(session, {"channel": channel, "user_key": user_key})
    if loaded is not None:
        return loaded[0], loaded[1], False
    # This transaction holds the write lock from its start (BEGIN IMMEDIATE); nobody else can have created
    # it since the query above, and a savepoint would cost two statements more. Inserted as the ORM's
    # flush would, by a compiled statement (bot.store.compiled.insert_persistent).
    values = _new_conversation_values(channel, user_key, now, locale)
    return compiled.insert_persistent(session, Conversation, values), None, True


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
    row = _LOAD_WITH_CONTACT.first(compiled.flushed_connection(session), parameters)
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
    await finish_message(session, crypto, conversation_id=conversation_id, lines=lines, now=now)


async def finish_message(
    session: AsyncSession,
    crypto: Crypto,
    *,
    conversation_id: int | None,
    lines: Sequence[tuple[str, str]],
    now: datetime,
    replies: tuple[str, str, str] | None = None,
    commit: bool = False,
) -> None:
    """A message's last writes, in one ``run_sync`` (see :func:`open_message`): its transcript ``lines``
    (direction, text; none without a ``conversation_id``), as :func:`add_messages`, and ``replies`` =
    (channel, ref_hash, replies_enc) as :func:`record_replies` (tied to ``conversation_id``); with
    ``commit``, then the session's commit, in the same switch (the engine's transaction ends here)."""
    rows = [
        {"conversation_id": conversation_id, "direction": direction, "body_enc": crypto.encrypt(text),
         "transport_ref_enc": None, "created_at": now}
        for direction, text in lines
    ] if conversation_id is not None else []  # fmt: skip
    record = None
    if replies is not None:
        channel, ref_hash, replies_enc = replies
        record = {
            "b_channel": channel,
            "b_ref_hash": ref_hash,
            "replies_enc": replies_enc,
            "conversation_id": conversation_id,
        }
    if not rows and record is None and not commit:
        return

    def run(sync_session: Session) -> None:
        if rows or record is not None:
            connection = compiled.flushed_connection(sync_session)
            if rows:
                _INSERT_MESSAGES.run_many(connection, rows)
            if record is not None:
                _RECORD_REPLIES.run(connection, record)
        if commit:
            sync_session.commit()  # flushes what is left, as AsyncSession.commit would

    await session.run_sync(run)


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
    return await session.run_sync(_claim_sync, channel, ref_hash, now)


def _claim_sync(session: Session, channel: str, ref_hash: str, now: datetime) -> ProcessedMessage | None:
    """:func:`claim_transport_id` in SQLAlchemy's greenlet."""
    values = {"channel": channel, "ref_hash": ref_hash, "replies_enc": None, "created_at": now}
    statement = _claim(session.get_bind().dialect.name)
    if statement.run(compiled.flushed_connection(session), values).rowcount == 1:
        return None
    existing = session.get(ProcessedMessage, (channel, ref_hash), populate_existing=True)
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
        connection = compiled.flushed_connection(sync_session)
        if many:
            return statement.run_many(connection, parameters)
        return statement.run(connection, parameters)

    return await session.run_sync(run)


def _claim(name: str) -> Statement:
    """``INSERT ... ON CONFLICT DO NOTHING`` of processed_messages, in dialect ``name`` (built once)."""
    statement = _CLAIM.get(name)
    if statement is None:
        statement = _CLAIM[name] = Statement(
            upsert(name, _PROCESSED).on_conflict_do_nothing(), _CLAIM_COLUMNS
        )
    return statement
