"""Call statistics: each call is one contact row, kept up to date from Twilio's callbacks.

The engine opens the contact on the call's first message (the call's id is its session). The phone
line links the row to the call (``call_ref_hash``, a keyed hash of the call's id) and fills in what
only the phone knows: ``call_status``, ``ended_at`` (start + Twilio's ``CallDuration``),
``dial_outcome``, ``counsellor_answer_seconds``, ``callback_requested`` and ``abandoned``.

Twilio's status callbacks may come more than once and out of order, so every update is idempotent:
a final status is never replaced by an earlier one, and ``ended_at`` is computed from the duration,
not from when the callback happened to arrive.

**Abandoned**: a call that ended (or never connected) before the caller got anything from it: no
answer heard (an article or a list of services), no counsellor reached, no call-back request left, and
not told the emergency numbers after nobody answered. Only calls this service answered are counted: a
status callback for a call it never saw (an outbound page call) writes nothing (:func:`answered`).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.store import conversations
from bot.store.contacts import new_contact
from bot.store.crypto import Crypto
from bot.store.models import Contact, Conversation
from ivr.state import Caller

CHANNEL = "phone"
FINAL_STATUSES = frozenset({"completed", "busy", "no-answer", "failed", "canceled"})
CALL_STATUSES = FINAL_STATUSES | {"queued", "initiated", "ringing", "in-progress"}
ANSWERED = "answered"
NOBODY = "nobody"
DIAL_OUTCOMES = frozenset({ANSWERED, "no-answer", "busy", "failed", NOBODY})


def call_ref(crypto: Crypto, caller: Caller) -> str:
    return crypto.ref_hash(CHANNEL, caller.call_sid)


async def conversation_of(session: AsyncSession, crypto: Crypto, caller: Caller) -> Conversation | None:
    """The caller's conversation (by the pseudonymous key the engine uses)."""
    user_key = crypto.user_key(CHANNEL, caller.user_id)
    return await conversations.find(session, channel=CHANNEL, user_key=user_key)


async def _by_ref(session: AsyncSession, ref: str) -> Contact | None:
    return (await session.execute(select(Contact).where(Contact.call_ref_hash == ref))).scalar_one_or_none()


async def _engine_contact(
    session: AsyncSession, crypto: Crypto, caller: Caller, ref: str
) -> tuple[Conversation | None, Contact | None]:
    """The contact the engine opened for this call, if it has one."""
    conversation = await conversation_of(session, crypto, caller)
    if conversation is None or conversation.contact_id is None:
        return conversation, None
    if (conversation.context or {}).get("session_ref") != ref:
        return conversation, None  # the engine's current contact belongs to another call
    return conversation, await session.get(Contact, conversation.contact_id)


def _absorb(contact: Contact, early: Contact) -> None:
    """Move what was recorded before the engine's row was linked (the call answered, a callback) onto
    that row: the call started when it was answered, not when the engine first saw it."""
    contact.started_at = min(contact.started_at, early.started_at)
    if early.call_status in FINAL_STATUSES and contact.call_status not in FINAL_STATUSES:
        contact.call_status = early.call_status
        contact.ended_at = max(contact.ended_at, early.ended_at)
    contact.dial_outcome = contact.dial_outcome or early.dial_outcome
    contact.counsellor_answer_seconds = contact.counsellor_answer_seconds or early.counsellor_answer_seconds
    contact.callback_requested = contact.callback_requested or early.callback_requested


async def call_contact(
    session: AsyncSession, crypto: Crypto, caller: Caller, now: datetime, *, duration_seconds: int = 0
) -> Contact:
    """The contact row of this call: linked to the engine's row, or a new one if the engine has none.

    A row of its own is made when Twilio reports on a call the engine never saw (the first request
    failed, or the status callback overtook it); it starts ``duration_seconds`` before ``now``, and
    the engine's row absorbs it once linked.
    """
    ref = call_ref(crypto, caller)
    linked = await _by_ref(session, ref)
    _conversation, contact = await _engine_contact(session, crypto, caller, ref)
    if contact is not None:
        if linked is not None and linked.id != contact.id:
            _absorb(contact, linked)
            await session.delete(linked)
            await session.flush()
        if contact.call_ref_hash != ref:
            contact.call_ref_hash = ref
            contact.call_status = contact.call_status or "in-progress"
            await session.flush()
        return contact
    if linked is not None:
        return linked
    early = new_contact(
        channel=CHANNEL,
        stats_key=crypto.stats_key(crypto.user_key(CHANNEL, caller.user_id)),
        started_at=now - timedelta(seconds=duration_seconds),
        ended_at=now,
        locale="vi",
        call_ref_hash=ref,
    )
    try:
        async with session.begin_nested():
            session.add(early)
            await session.flush()
    except IntegrityError:  # another callback of the same call made it a moment ago (PostgreSQL)
        found = await _by_ref(session, ref)
        if found is None:
            raise
        return found
    return early


async def answered(session: AsyncSession, crypto: Crypto, caller: Caller) -> bool:
    """Whether this service answered the call (its voice request reached the engine)."""
    ref = call_ref(crypto, caller)
    if await _by_ref(session, ref) is not None:
        return True
    _conversation, contact = await _engine_contact(session, crypto, caller, ref)
    return contact is not None


def refresh_abandoned(contact: Contact) -> None:
    """Decide ``abandoned`` once the call is over (see the module's definition)."""
    if contact.call_status not in FINAL_STATUSES:
        return
    got_something = (
        bool(contact.articles)
        or bool(contact.referrals)
        or contact.dial_outcome in (ANSWERED, NOBODY)
        or contact.callback_requested
    )
    contact.abandoned = contact.call_status != "completed" or not got_something


def apply_status(contact: Contact, status: str, duration_seconds: int | None) -> None:
    """Record a status callback; a final status is kept, whatever comes after it."""
    if contact.call_status in FINAL_STATUSES:
        refresh_abandoned(contact)
        return
    contact.call_status = status
    if status in FINAL_STATUSES and duration_seconds is not None:
        # Without a duration the end stays at the call's last activity, which the engine recorded.
        contact.ended_at = contact.started_at + timedelta(seconds=duration_seconds)
    refresh_abandoned(contact)


def apply_dial(contact: Contact, outcome: str, answer_seconds: int | None = None) -> None:
    """Record how ringing the counsellors went; once a counsellor answered, the call keeps that."""
    if contact.dial_outcome == ANSWERED:
        return
    contact.dial_outcome = outcome
    if outcome == ANSWERED and answer_seconds is not None:
        contact.counsellor_answer_seconds = max(0, answer_seconds)
    refresh_abandoned(contact)
