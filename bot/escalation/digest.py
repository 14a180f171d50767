"""Combining pages in a flood, so that counsellors' phones are not flooded (and then muted).

Up to ``HOTLINE_PAGE_COMBINE_ABOVE`` pages a minute go to one recipient (a counsellor's route, or the
staff group) one by one, each with its own "take" button. Beyond that, further escalations for that
recipient are gathered into one ``page_digest`` event ("N new emergencies, open the console"), sent at
most once every ``HOTLINE_PAGE_COMBINE_SECONDS``. Every escalation is still its own row in the console
queue (emergencies first): only the phone's notifications are combined.

A recipient is a keyed hash of the route and the address, so the outbox can count pages per person
without holding a chat id or a phone number in clear.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.store.crypto import Crypto
from bot.store.locking import for_update
from bot.store.models import OutboxEvent
from bot.store.outbox import LANE_URGENT, enqueue

DIGEST_KIND = "page_digest"
WINDOW = timedelta(minutes=1)


def recipient_key(crypto: Crypto, route: str, address: str) -> str:
    """Who a page goes to, as the outbox keeps it: a keyed hash, never the address."""
    return crypto.user_key(f"page:{route}", address)[:32]


async def pages_in_last_minute(session: AsyncSession, recipient: str, now: datetime) -> int:
    """How many single pages were queued for ``recipient`` in the last minute (sent or not).

    On PostgreSQL this first takes a transaction-level advisory lock on the recipient, so that two
    escalations paged at the same moment (by two workers or two processes) count one after the other
    and never both slip under the limit. (SQLite's write transactions are serial already.)
    """
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(select(func.pg_advisory_xact_lock(int(recipient[:15], 16))))
    return int(
        await session.scalar(
            select(func.count())
            .select_from(OutboxEvent)
            .where(
                OutboxEvent.kind == "page_send",
                OutboxEvent.recipient == recipient,
                OutboxEvent.created_at > now - WINDOW,
            )
        )
        or 0
    )


async def add_to_digest(
    session: AsyncSession,
    crypto: Crypto,
    *,
    recipient: str,
    payload: dict[str, object],
    escalation_id: int,
    now: datetime,
    every: timedelta,
) -> None:
    """Add an escalation to the recipient's waiting digest, or queue a new one.

    A digest not yet claimed by a dispatcher is extended (its row locked, so a dispatcher claiming it at
    the same moment either sees the new id or leaves the row to us). A new digest goes at once, or
    ``every`` after the recipient's last one.
    """
    waiting = (
        await session.execute(
            for_update(
                session,
                select(OutboxEvent)
                .where(
                    OutboxEvent.kind == DIGEST_KIND,
                    OutboxEvent.recipient == recipient,
                    OutboxEvent.status == "pending",
                    OutboxEvent.claimed_by.is_(None),
                )
                .order_by(OutboxEvent.id)
                .limit(1),
            )
        )
    ).scalar_one_or_none()
    if waiting is not None:
        content = crypto.decrypt_json(waiting.payload_enc)
        if escalation_id not in content["escalation_ids"]:
            content["escalation_ids"].append(escalation_id)
            waiting.payload_enc = crypto.encrypt_json(content)
        return
    last = await session.scalar(
        select(func.max(OutboxEvent.created_at)).where(
            OutboxEvent.kind == DIGEST_KIND, OutboxEvent.recipient == recipient
        )
    )
    not_before = now if last is None else max(now, _aware(last, now) + every)
    await enqueue(
        session,
        crypto,
        kind=DIGEST_KIND,
        payload={**payload, "escalation_ids": [escalation_id]},
        now=now,
        not_before=not_before,
        lane=LANE_URGENT,
        recipient=recipient,
    )


def _aware(value: datetime, like: datetime) -> datetime:
    """SQLite returns naive datetimes; give them the clock's zone to compare."""
    return value.replace(tzinfo=like.tzinfo) if value.tzinfo is None and like.tzinfo is not None else value
