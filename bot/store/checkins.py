"""Safety check-ins: "check on me in an hour" (the table :class:`~bot.store.models.Checkin`).

A check-in is *set* for a time; at that time it is *asked* ("are you OK?"), then *reminded*, then
*escalated* (an emergency page) when nobody answers; *answered* or *cancelled* end it at any stage.
Every timer is an outbox event (:data:`~bot.store.outbox_kinds.CHECKIN_DUE` by default) written in the
caller's transaction with ``not_before`` at its time, so a check-in survives restarts like any page.
The event names the check-in's ``revision``; setting a new time, ending or moving to the next stage
bumps it, so a timer written before does nothing (:func:`due` returns None for it).

The note (where, a description) and the phone line's number are encrypted and wiped by :func:`end`.
Statistics are three counters on the contact in which the check-in was set (no content, kept after
purges like the rest of ``contacts``).

Other channels (the phone line) reuse this API with an event kind of their own (``kind=...``) and the
``callee``/``call_ref`` columns.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.store.crypto import Crypto
from bot.store.locking import for_update
from bot.store.models import Checkin, Contact, Conversation
from bot.store.outbox import LANE_URGENT, enqueue
from bot.store.outbox_kinds import CHECKIN_DUE, CheckinDuePayload

SET = "set"
ASKED = "asked"
REMINDED = "reminded"
ESCALATED = "escalated"
ANSWERED = "answered"
CANCELLED = "cancelled"
ACTIVE = (SET, ASKED, REMINDED)
"""Stages of a check-in still running (the others end it)."""
STAGES = (*ACTIVE, ESCALATED, ANSWERED, CANCELLED)
MAX_NOTE_CHARS = 300


async def active(session: AsyncSession, conversation_id: int) -> Checkin | None:
    """The conversation's running check-in, locked for this transaction (at most one runs at a time)."""
    query = (
        select(Checkin)
        .where(Checkin.conversation_id == conversation_id, Checkin.stage.in_(ACTIVE))
        .order_by(Checkin.id.desc())
        .limit(1)
    )
    return (await session.execute(for_update(session, query))).scalar_one_or_none()


async def schedule(
    session: AsyncSession,
    crypto: Crypto,
    checkin: Checkin,
    *,
    at: datetime,
    now: datetime,
    kind: str = CHECKIN_DUE,
) -> None:
    """Write the check-in's next timer for ``at`` (any earlier timer of it is void from now on)."""
    checkin.revision += 1
    payload: CheckinDuePayload = {"checkin_id": checkin.id, "revision": checkin.revision}
    await enqueue(
        session,
        crypto,
        kind=kind,
        payload=payload,
        now=now,
        channel=checkin.channel,
        conversation_id=checkin.conversation_id,
        ordering_key=f"checkin:{checkin.id}",
        not_before=at,
        lane=LANE_URGENT,
    )


async def set_checkin(
    session: AsyncSession,
    crypto: Crypto,
    *,
    conversation: Conversation,
    due_at: datetime,
    now: datetime,
    contact: Contact | None = None,
    note: str | None = None,
    discreet: bool = False,
    callee: str | None = None,
    kind: str = CHECKIN_DUE,
) -> Checkin:
    """Set a check-in for ``due_at``, and its timer. A check-in still running in this conversation is
    replaced (cancelled): one runs at a time. ``callee``: the number the phone line calls back."""
    running = await active(session, conversation.id)
    if running is not None:
        await end(session, running, stage=CANCELLED, now=now)
    checkin = Checkin(
        conversation_id=conversation.id,
        contact_id=contact.id if contact is not None else None,
        channel=conversation.channel,
        stage=SET,
        discreet=discreet,
        set_at=now,
        due_at=due_at,
        revision=0,
        note_enc=crypto.encrypt(note[:MAX_NOTE_CHARS]) if note else None,
        callee_enc=crypto.encrypt(callee) if callee else None,
    )
    session.add(checkin)
    await session.flush()
    if contact is not None:
        contact.checkins_set = (contact.checkins_set or 0) + 1
    await schedule(session, crypto, checkin, at=due_at, now=now, kind=kind)
    return checkin


def set_note(crypto: Crypto, checkin: Checkin, note: str | None) -> None:
    """Keep (or, with None, remove) the check-in's short note, encrypted."""
    checkin.note_enc = crypto.encrypt(note[:MAX_NOTE_CHARS]) if note else None


def note(crypto: Crypto, checkin: Checkin) -> str | None:
    """The check-in's note in clear (None when there is none, or after the check-in ended)."""
    return crypto.decrypt(checkin.note_enc) if checkin.note_enc else None


async def extend(
    session: AsyncSession,
    crypto: Crypto,
    checkin: Checkin,
    *,
    until: datetime,
    now: datetime,
    kind: str = CHECKIN_DUE,
) -> Checkin:
    """Move a running check-in to ``until`` (back to stage ``set``: it is asked again then)."""
    checkin.due_at = until
    checkin.stage = SET
    checkin.asked_at = None
    checkin.call_ref = None
    await schedule(session, crypto, checkin, at=until, now=now, kind=kind)
    return checkin


async def advance(
    session: AsyncSession,
    crypto: Crypto,
    checkin: Checkin,
    *,
    stage: str,
    now: datetime,
    next_at: datetime,
    kind: str = CHECKIN_DUE,
) -> None:
    """Move a running check-in on to ``asked`` or ``reminded``, with its next timer at ``next_at``."""
    if stage not in (ASKED, REMINDED):
        raise ValueError(f"a check-in advances to asked or reminded, not {stage!r}")
    checkin.stage = stage
    if stage == ASKED:
        checkin.asked_at = now
    await schedule(session, crypto, checkin, at=next_at, now=now, kind=kind)


async def end(
    session: AsyncSession,
    checkin: Checkin,
    *,
    stage: str,
    now: datetime,
    escalation_id: int | None = None,
) -> None:
    """End a check-in (``answered``, ``cancelled`` or ``escalated``): its note and number are wiped,
    its timers void, and the contact in which it was set counts an answer or an escalation."""
    if stage not in (ANSWERED, CANCELLED, ESCALATED):
        raise ValueError(f"a check-in ends answered, cancelled or escalated, not {stage!r}")
    checkin.stage = stage
    checkin.ended_at = now
    checkin.note_enc = None
    checkin.callee_enc = None
    checkin.call_ref = None
    checkin.revision += 1
    if escalation_id is not None:
        checkin.escalation_id = escalation_id
    contact = await session.get(Contact, checkin.contact_id) if checkin.contact_id else None
    if contact is not None and stage == ANSWERED:
        contact.checkins_answered = (contact.checkins_answered or 0) + 1
    elif contact is not None and stage == ESCALATED:
        contact.checkins_escalated = (contact.checkins_escalated or 0) + 1


async def answer(session: AsyncSession, checkin: Checkin, *, now: datetime) -> None:
    """The person said they are all right: the check-in ends ``answered``."""
    await end(session, checkin, stage=ANSWERED, now=now)


async def cancel(session: AsyncSession, checkin: Checkin, *, now: datetime) -> None:
    """The person called the check-in off: it ends ``cancelled``."""
    await end(session, checkin, stage=CANCELLED, now=now)


async def due(session: AsyncSession, payload: CheckinDuePayload) -> Checkin | None:
    """The check-in a timer event is for, locked, if it is still running at the event's revision;
    None for a timer made void since (extended, ended, deleted with the conversation)."""
    query = select(Checkin).where(Checkin.id == payload["checkin_id"])
    checkin = (await session.execute(for_update(session, query))).scalar_one_or_none()
    if checkin is None or checkin.stage not in ACTIVE or checkin.revision != payload["revision"]:
        return None
    return checkin


async def for_escalations(session: AsyncSession, escalation_ids: list[int]) -> dict[int, Checkin]:
    """The check-ins that ended in these escalations, by escalation id (the console's "missed
    check-in, set at ...")."""
    if not escalation_ids:
        return {}
    rows = await session.execute(select(Checkin).where(Checkin.escalation_id.in_(escalation_ids)))
    return {c.escalation_id: c for c in rows.scalars() if c.escalation_id is not None}


async def forget(session: AsyncSession, conversation_id: int) -> None:
    """Delete a conversation's check-ins (the person deleted their data)."""
    await session.execute(
        delete(Checkin)
        .where(Checkin.conversation_id == conversation_id)
        .execution_options(synchronize_session=False)
    )
