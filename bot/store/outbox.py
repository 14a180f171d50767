"""Writing outbox events: side effects that must not be lost, in the caller's transaction.

Every event has a *lane*, claimed lowest first, so that what a person is waiting for is never queued
behind staff traffic: a reply to a person (``deliver``) first, then the first page of an emergency (and
a person's words relayed to their counsellor), then everything else (re-pages, page updates, staff
notices, clean-ups).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.messages import Reply
from bot.store.crypto import Crypto
from bot.store.models import OutboxEvent
from bot.store.notify import announce_outbox
from bot.store.outbox_kinds import DELIVER, PAGE, PAGE_DIGEST, RELAY_TO_STAFF, DeliverPayload

LANE_REPLY = 0  # a reply to a person, or a counsellor's message to them (``deliver``)
LANE_URGENT = 1  # an emergency's first page; a person's words to the counsellor who holds them
LANE_OTHER = 2  # re-pages, page updates, staff notices, clean-ups
# The lane of a kind when the writer does not say: ``page`` is an escalation's first page (re-pages are
# ``repage``); paging decides per ``page_send`` (bot.escalation.paging).
KIND_LANES = {
    DELIVER: LANE_REPLY,
    PAGE: LANE_URGENT,
    PAGE_DIGEST: LANE_URGENT,
    RELAY_TO_STAFF: LANE_URGENT,
}


async def enqueue(
    session: AsyncSession,
    crypto: Crypto,
    *,
    kind: str,
    payload: Mapping[str, object],
    now: datetime,
    channel: str | None = None,
    conversation_id: int | None = None,
    escalation_id: int | None = None,
    ordering_key: str | None = None,
    not_before: datetime | None = None,
    lane: int | None = None,
    recipient: str | None = None,
    erase_when_done: bool = False,
) -> OutboxEvent:
    """Add an event (kinds and payloads: :mod:`bot.store.outbox_kinds`; the payload encrypted) to the session; it is sent once the transaction commits.

    ``lane`` defaults to the kind's (:data:`KIND_LANES`, else :data:`LANE_OTHER`); ``recipient`` is a
    keyed hash naming who a page goes to, never an address in clear. ``erase_when_done``: for a person
    whose data was deleted, the row is deleted once it is finished (:mod:`bot.store.erasure`).
    """
    event = OutboxEvent(
        kind=kind,
        channel=channel,
        conversation_id=conversation_id,
        escalation_id=escalation_id,
        ordering_key=ordering_key,
        lane=KIND_LANES.get(kind, LANE_OTHER) if lane is None else lane,
        recipient=recipient,
        payload_enc=crypto.encrypt_json(payload),
        status="pending",
        attempts=0,
        not_before=not_before or now,
        created_at=now,
        erase_when_done=erase_when_done,
    )
    session.add(event)
    await session.flush()
    return event


async def queue_delivery(
    session: AsyncSession,
    crypto: Crypto,
    *,
    channel: str,
    user_key: str,
    conversation_id: int | None,
    address: str,
    replies: Sequence[Reply],
    now: datetime,
    emergency: bool = False,
    erase_when_done: bool = False,
) -> OutboxEvent:
    """Replies to a person through their push channel: a ``deliver`` event, in order with the person's
    other deliveries (one ordering key per person and channel). ``emergency``: the safety reply, timed
    when it is sent."""
    payload: DeliverPayload = {"address": address, "replies": [r.to_json() for r in replies]}
    if emergency:
        payload["emergency"] = True
    return await enqueue(
        session,
        crypto,
        kind=DELIVER,
        channel=channel,
        conversation_id=conversation_id,
        ordering_key=f"{channel}:{user_key[:32]}",
        payload=payload,
        now=now,
        erase_when_done=erase_when_done,
    )


async def release_held(session: AsyncSession, *, conversation_id: int, now: datetime) -> int:
    """Put a conversation's held events back in the queue (they keep their order); returns how many."""
    result = await session.execute(
        update(OutboxEvent)
        .where(OutboxEvent.conversation_id == conversation_id, OutboxEvent.status == "held")
        .values(status="pending", not_before=now, last_error=None)
    )
    released = int(result.rowcount or 0)  # type: ignore[attr-defined]
    if released:
        await announce_outbox(session)
    return released
