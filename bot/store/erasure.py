"""Deleting a person's data ("delete my data", ``/xoa``): every table, in one place.

:data:`REGISTRY` names every table of the database and what it holds about a person: what a deletion
does to it (``erase``: the rows go; ``anonymise``: the rows stay, unlinked; ``expire``: keyed hashes that
cannot be linked to the conversation, gone with their time window; ``staff``: nothing of the person).
``tests/store/test_erasure.py`` fails when a table is added without an entry, or when a column that can
point to a person (a user key, a keyed hash, an encrypted value, a link to a conversation or an
escalation) is not listed in its table's entry. :func:`erase_conversation` runs one step per ``erase``
and ``anonymise`` table, and the same test checks that there is one.

What a deletion keeps, and why:

* ``contacts``: the anonymous statistics (channel, times, topics, outcome), with ``stats_key`` replaced by
  a random one: unique-person counts stay right, and the new key cannot be recomputed from the chat id.
* ``escalations``: the case (kind, risk, times), closed with the outcome ``deleted`` and without its
  call-back number or link to the conversation: the counsellor sees that the person ended it, the
  statistics count it.
* ``audit_log``: which member of staff did what on which case (the link to the conversation is emptied).
* ``processed_messages``: only the row of the message that asked for the deletion, unlinked, holding the
  "deleted" confirmation (a retried request gets the same answer), gone after ``purge_dedup_hours``.
* ``flood_counts``: counts under a keyed hash of (cap, window, client), gone when the window ends (at
  most two hours). Deleting them would let a client reset its caps by deleting its data.
* ``client_reports``: a bad-client report already sent to moderation stays (it warns others about a
  third party, and nothing in it names the reporter), unlinked: no conversation, no reporter hash. A
  draft goes.
* ``outbox``: the "deleted" confirmation and the clean-up of the person's chat (Telegram), written with
  ``erase_when_done``: deleted as soon as they are sent, given up or held (:mod:`bot.outbox.dispatcher`),
  and by the purge if still undelivered after ``purge_erased_hours``.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.store.crypto import Crypto
from bot.store.models import (
    AlertSubscription,
    Checkin,
    ClientReport,
    Contact,
    Conversation,
    DeskNote,
    Escalation,
    Message,
    OutboxEvent,
    ProcessedMessage,
)
from bot.store.outbox import enqueue
from bot.store.outbox_kinds import CASE_DELETED, CaseDeletedPayload

Rule = Literal["erase", "anonymise", "expire", "staff"]
DELETED_OUTCOME = "deleted"  # an escalation closed because the person deleted their data


@dataclass(frozen=True)
class Entry:
    """What one table holds about a person. ``person``: the columns that can point to one; ``staff``:
    keyed hashes and encrypted values that belong to staff or to the service, never to a person."""

    rule: Rule
    why: str
    person: tuple[str, ...] = ()
    staff: tuple[str, ...] = ()


REGISTRY: dict[str, Entry] = {
    "conversations": Entry(
        "erase",
        "the person: user key, encrypted address, state",
        ("user_key", "address_enc", "context", "contact_id", "escalation_id"),
    ),
    "messages": Entry("erase", "the transcript", ("conversation_id", "body_enc", "transport_ref_enc")),
    "processed_messages": Entry(
        "erase", "replies cached for retried messages", ("conversation_id", "ref_hash", "replies_enc")
    ),
    "outbox": Entry(
        "erase",
        "deliveries, web chat inbox, relays and notices carrying addresses and words",
        ("conversation_id", "escalation_id", "ordering_key", "payload_enc", "recipient"),
    ),
    "escalations": Entry(
        "anonymise",
        "the case: closed, unlinked, call-back number removed",
        ("conversation_id", "callback_phone_enc", "contact_id"),
    ),
    "checkins": Entry(
        "erase",
        "safety check-ins: times, encrypted note and number",
        ("conversation_id", "contact_id", "escalation_id", "note_enc", "callee_enc", "call_ref"),
    ),
    "client_reports": Entry(
        "anonymise",
        "bad-client reports: a sent one stays unlinked (it is about a third party), a draft goes",
        ("conversation_id", "reporter_hash"),
        staff=(
            "place_enc",
            "when_enc",
            "what_enc",
            "person_enc",
            "vehicle_enc",
            "account_enc",
            "followup_enc",
            "phone_hash",
        ),
    ),
    "alert_subscriptions": Entry("erase", "bad-client alerts the person asked for", ("conversation_id",)),
    "alert_counts": Entry("staff", "statistics of bad-client alerts by day: counts, no content"),
    "desk_notes": Entry(
        "erase",
        "counsellors' notes and hand-over notes on the conversation, encrypted",
        ("conversation_id", "escalation_id", "text_enc"),
    ),
    "contacts": Entry("anonymise", "statistics: stats_key made random", ("stats_key", "call_ref_hash")),
    "phone_screens": Entry("expire", "keyed hashes of counsellors' accepted call legs", ("ref_hash",)),
    "flood_counts": Entry("expire", "counts under a keyed hash, gone with their window", ("key_hash",)),
    # the link to a deleted conversation is emptied by its foreign key (ON DELETE SET NULL)
    "audit_log": Entry("staff", "staff actions on cases", ("conversation_id", "escalation_id")),
    "counsellors": Entry(
        "staff", "staff contact routes", staff=("telegram_chat_enc", "telegram_user_hash", "phone_enc")
    ),
    "shifts": Entry("staff", "the rota"),
    "staff_accounts": Entry("staff", "console logins", staff=("password_hash",)),
    "stored_secrets": Entry("staff", "the service's own credentials", staff=("value_enc",)),
    "key_versions": Entry("staff", "which key versions are in use: numbers, no key"),
    "console_sessions": Entry(
        "staff", "console sessions: keyed hashes of their tokens", staff=("token_hash",)
    ),
    # console logins only (an address, a user name from it, a browser), never a person of the hotline
    "login_failures": Entry("staff", "failed console logins under a keyed hash", staff=("key_hash",)),
}

Step = Callable[[AsyncSession, Crypto, Conversation, datetime], Awaitable[None]]


def _ordering_key(conversation: Conversation) -> str:
    """The ordering key the engine gives a person's deliveries (see :mod:`bot.engine.engine`)."""
    return f"{conversation.channel}:{conversation.user_key[:32]}"


async def _escalation_ids(session: AsyncSession, conversation: Conversation) -> list[int]:
    rows = await session.execute(select(Escalation.id).where(Escalation.conversation_id == conversation.id))
    return list(rows.scalars())


async def _outbox(session: AsyncSession, crypto: Crypto, conversation: Conversation, now: datetime) -> None:
    """Every row for the person, of every kind and status: pending deliveries, held ones, failed
    (``dead``) ones, unread web chat inbox, relays to staff and staff notices about them, and earlier
    rows in the person's delivery line that carry no conversation (an earlier deletion's clean-up)."""
    escalations = await _escalation_ids(session, conversation)
    await session.execute(
        delete(OutboxEvent)
        .where(
            or_(
                OutboxEvent.conversation_id == conversation.id,
                OutboxEvent.escalation_id.in_(escalations),
                (OutboxEvent.ordering_key == _ordering_key(conversation)) & ~OutboxEvent.erase_when_done,
            )
        )
        .execution_options(synchronize_session=False)
    )


async def _messages(session: AsyncSession, crypto: Crypto, conversation: Conversation, now: datetime) -> None:
    await session.execute(delete(Message).where(Message.conversation_id == conversation.id))


async def _processed(
    session: AsyncSession, crypto: Crypto, conversation: Conversation, now: datetime
) -> None:
    await session.execute(
        delete(ProcessedMessage)
        .where(ProcessedMessage.conversation_id == conversation.id)
        .execution_options(synchronize_session=False)
    )


async def _escalations(
    session: AsyncSession, crypto: Crypto, conversation: Conversation, now: datetime
) -> None:
    """Close the person's open case (outcome ``deleted``) and unlink every case of theirs; a counsellor
    who held it on Telegram is told (:data:`CASE_DELETED`; the console shows the case closed)."""
    rows = await session.execute(select(Escalation).where(Escalation.conversation_id == conversation.id))
    for escalation in rows.scalars():
        if escalation.status == "taken" and escalation.taken_by is not None:
            payload: CaseDeletedPayload = {
                "escalation_id": escalation.id,
                "counsellor_id": escalation.taken_by,
                "via": (conversation.context or {}).get("held_via"),
            }
            await enqueue(
                session,
                crypto,
                kind=CASE_DELETED,
                payload=payload,
                now=now,
                escalation_id=escalation.id,
            )
        if escalation.status in ("open", "taken"):
            escalation.status = "closed"
            escalation.closed_at = now
            escalation.outcome = DELETED_OUTCOME
            contact = await session.get(Contact, escalation.contact_id) if escalation.contact_id else None
            if contact is not None:
                contact.closed_at = now
                contact.outcome = DELETED_OUTCOME
        escalation.callback_phone_enc = None
        escalation.conversation_id = None
    conversation.escalation_id = None
    await session.flush()


async def _checkins(session: AsyncSession, crypto: Crypto, conversation: Conversation, now: datetime) -> None:
    await session.execute(
        delete(Checkin)
        .where(Checkin.conversation_id == conversation.id)
        .execution_options(synchronize_session=False)
    )


async def _reports(session: AsyncSession, crypto: Crypto, conversation: Conversation, now: datetime) -> None:
    await session.execute(
        delete(ClientReport)
        .where(ClientReport.conversation_id == conversation.id, ClientReport.status == "draft")
        .execution_options(synchronize_session=False)
    )
    await session.execute(
        update(ClientReport)
        .where(ClientReport.conversation_id == conversation.id)
        .values(conversation_id=None, reporter_hash=None)
        .execution_options(synchronize_session=False)
    )


async def _subscriptions(
    session: AsyncSession, crypto: Crypto, conversation: Conversation, now: datetime
) -> None:
    await session.execute(
        delete(AlertSubscription)
        .where(AlertSubscription.conversation_id == conversation.id)
        .execution_options(synchronize_session=False)
    )


async def _desk_notes(
    session: AsyncSession, crypto: Crypto, conversation: Conversation, now: datetime
) -> None:
    await session.execute(
        delete(DeskNote)
        .where(DeskNote.conversation_id == conversation.id)
        .execution_options(synchronize_session=False)
    )


async def _contacts(session: AsyncSession, crypto: Crypto, conversation: Conversation, now: datetime) -> None:
    """Keep the statistics, under a fresh random key that nothing can recompute from the chat id."""
    await session.execute(
        update(Contact)
        .where(Contact.stats_key == crypto.stats_key(conversation.user_key))
        .values(stats_key=secrets.token_hex(12))
        .execution_options(synchronize_session=False)
    )


async def _conversation(
    session: AsyncSession, crypto: Crypto, conversation: Conversation, now: datetime
) -> None:
    await session.delete(conversation)


# In this order: rows are found through the conversation and its escalations before those are unlinked.
STEPS: tuple[tuple[str, Step], ...] = (
    ("outbox", _outbox),
    ("messages", _messages),
    ("processed_messages", _processed),
    ("checkins", _checkins),
    ("client_reports", _reports),
    ("alert_subscriptions", _subscriptions),
    ("desk_notes", _desk_notes),
    ("escalations", _escalations),
    ("contacts", _contacts),
    ("conversations", _conversation),
)


async def erase_conversation(
    session: AsyncSession, crypto: Crypto, conversation: Conversation, *, now: datetime
) -> None:
    """Delete everything tied to ``conversation`` (see :data:`REGISTRY`), in the caller's transaction."""
    for _table, step in STEPS:
        await step(session, crypto, conversation, now)
    await session.flush()
