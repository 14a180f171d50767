"""Opening an escalation: a person who needs a human, written with its page in one transaction."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.metrics import EMERGENCIES, level_of, word
from bot.settings import Settings
from bot.store.crypto import Crypto
from bot.store.locking import for_update
from bot.store.models import Contact, Conversation, Counsellor, Escalation, StaffAccount
from bot.store.outbox import enqueue
from bot.store.outbox_kinds import PAGE, PAGE_UPDATE, PagePayload, PageUpdatePayload

OPEN_STATES = ("open", "taken")
OUTCOMES = ("safe", "police", "health", "shelter", "no_contact", "other")
"""How a counsellor closes an escalation (the desk refuses any other; the statistics count them)."""


async def lock_escalation(session: AsyncSession, escalation_id: int) -> Escalation | None:
    """An escalation, locked for the rest of the transaction (first tap wins, pages never race)."""
    return (
        await session.execute(for_update(session, select(Escalation).where(Escalation.id == escalation_id)))
    ).scalar_one_or_none()


async def linked(session: AsyncSession, escalation: Escalation) -> tuple[Contact | None, Conversation | None]:
    """The escalation's contact row and conversation (either may be gone: purged, deleted by the person)."""
    contact = await session.get(Contact, escalation.contact_id) if escalation.contact_id else None
    conversation = (
        await session.get(Conversation, escalation.conversation_id) if escalation.conversation_id else None
    )
    return contact, conversation


async def current_escalation(session: AsyncSession, conversation: Conversation) -> Escalation | None:
    """The conversation's escalation that is still open or held by a counsellor, if any."""
    if conversation.escalation_id is None:
        return None
    escalation = await session.get(Escalation, conversation.escalation_id)
    if escalation is None or escalation.status not in OPEN_STATES:
        return None
    return escalation


async def open_escalation(
    session: AsyncSession,
    crypto: Crypto,
    *,
    conversation: Conversation,
    contact: Contact,
    kind: str,
    risk: str | None,
    now: datetime,
    page: bool = True,
    combine: bool = False,
) -> tuple[Escalation, bool]:
    """Open an escalation and queue its page; reuse the open one (re-alerting staff) if there is one.

    ``page=False`` (a client over its flood cap, :mod:`bot.engine.floods`): the escalation is written as
    always, but no ``page`` or ``page_update`` event is queued, and a new one is marked ``flooded`` (the
    console lists it below the others; paging never pages it on its own). Returns the escalation and
    whether it is new. ``combine``: a new escalation's first page goes only in a combined page
    (:mod:`bot.escalation.digest`), e.g. the client's second emergency within the hour.
    """
    existing = await current_escalation(session, conversation)
    if existing is not None:
        upgraded = kind == "emergency" and existing.kind != "emergency"
        if upgraded:
            existing.kind = "emergency"
            existing.risk = risk
            count_escalation("emergency", risk)
        if page:
            update: PageUpdatePayload = {
                "escalation_id": existing.id,
                "reason": "emergency" if upgraded else "new_message",
            }
            await enqueue(
                session,
                crypto,
                kind=PAGE_UPDATE,
                payload=update,
                now=now,
                escalation_id=existing.id,
            )
        if kind == "emergency":
            contact.emergency = True
        return existing, False
    escalation = Escalation(
        conversation_id=conversation.id,
        contact_id=contact.id,
        channel=conversation.channel,
        kind=kind,
        risk=risk,
        status="open",
        page_level=0,
        created_at=now,
        flooded=not page,
    )
    session.add(escalation)
    await session.flush()
    count_escalation(kind, risk)
    conversation.escalation_id = escalation.id
    if kind == "emergency":
        contact.emergency = True
    else:
        contact.counsellor_requested = True
    if page:
        await queue_page(session, crypto, escalation, now=now, combine=combine)
    return escalation, True


async def queue_page(
    session: AsyncSession, crypto: Crypto, escalation: Escalation, *, now: datetime, combine: bool = False
) -> None:
    """The first page of a new escalation, in the caller's transaction (the dispatcher sends it);
    ``combine``: only in a combined page, never as a single one."""
    payload: PagePayload = {"escalation_id": escalation.id, "level": 0}
    if combine:
        payload["combine"] = True
    await enqueue(
        session,
        crypto,
        kind=PAGE,
        payload=payload,
        now=now,
        escalation_id=escalation.id,
        ordering_key=f"esc:{escalation.id}",
    )


async def staff_reachable(session: AsyncSession, settings: Settings) -> bool:
    """Whether anyone at all can be paged or can see the console queue."""
    if settings.telegram_token and settings.telegram_staff_chat_id is not None:
        return True
    if settings.oncall_numbers and settings.twilio_account_sid:
        return True
    counsellors = await session.scalar(select(func.count()).select_from(Counsellor).where(Counsellor.active))
    accounts = await session.scalar(select(func.count()).select_from(StaffAccount).where(StaffAccount.active))
    return bool(counsellors or accounts)


def count_escalation(kind: str, risk: str | None) -> None:
    """Count an escalation opened (or raised to an emergency): its level and the danger named, as words.

    Counted when written, inside the transaction: a rollback after this (rare) over-counts by one."""
    EMERGENCIES.labels(level=level_of(kind), kind=word(risk) if risk else "none").inc()
