"""What a phone call writes for the staff: call-back requests, emergency pages, answered calls.

Each function runs in the caller's transaction and writes its page as an outbox event in it, so that
nothing is lost if the process dies (the dispatcher of the escalation issue sends the pages).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.store.crypto import Crypto
from bot.store.escalations import current_escalation, open_escalation, queue_page
from bot.store.models import Contact, Conversation, Escalation
from ivr.calls import CHANNEL, refresh_abandoned

CALLBACK = "callback"


async def request_callback(
    session: AsyncSession,
    crypto: Crypto,
    *,
    conversation: Conversation | None,
    contact: Contact,
    number: str,
    now: datetime,
) -> Escalation:
    """Record a call-back request (the number encrypted) and page the staff; once per call."""
    existing = (
        await session.execute(
            select(Escalation).where(Escalation.contact_id == contact.id, Escalation.kind == CALLBACK)
        )
    ).scalar_one_or_none()
    contact.callback_requested = True
    refresh_abandoned(contact)
    if existing is not None:
        return existing
    escalation = Escalation(
        conversation_id=conversation.id if conversation is not None else None,
        contact_id=contact.id,
        channel=CHANNEL,
        kind=CALLBACK,
        status="open",
        page_level=0,
        created_at=now,
        callback_phone_enc=crypto.encrypt(number),
    )
    session.add(escalation)
    await session.flush()
    if conversation is not None and await current_escalation(session, conversation) is None:
        conversation.escalation_id = escalation.id
    await queue_page(session, crypto, escalation, now=now)
    return escalation


async def page_again_for_emergency(
    session: AsyncSession, crypto: Crypto, *, conversation: Conversation, contact: Contact, now: datetime
) -> Escalation:
    """Nobody answered the phone: make sure the staff are paged (re-alert the open emergency)."""
    escalation, _new = await open_escalation(
        session, crypto, conversation=conversation, contact=contact, kind="emergency", risk=None, now=now
    )
    return escalation


async def counsellor_answered(
    session: AsyncSession, *, conversation: Conversation | None, contact: Contact, answered_at: datetime
) -> None:
    """A counsellor took the call on the phone: the escalation is taken, so nobody is paged again."""
    if contact.taken_at is None:
        contact.taken_at = answered_at
    if conversation is None:
        return
    escalation = await current_escalation(session, conversation)
    if escalation is not None and escalation.status == "open":
        escalation.status = "taken"
        escalation.taken_at = answered_at
