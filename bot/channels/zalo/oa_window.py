"""Zalo's free-reply window for an Official Account: 8 messages within 48 hours of the person's last one.

Beyond it a message must wait: the dispatcher parks it (status ``held``) and tells the counsellor why
(a ``staff_notice``); when the person writes again the window opens anew and held messages go out in
their order. Nothing new is stored for this: the window is read from what the service keeps anyway,
the conversation's ``last_seen_at`` (the person's last message) and the ``deliver`` events of this
conversation done since then, counted in Zalo messages. So it needs no identifying state and survives
restarts.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.messages import Reply
from bot.outbox.dispatcher import GiveUp, Hold, Retry
from bot.store import conversations
from bot.store.crypto import Crypto
from bot.store.models import OutboxEvent
from bot.store.outbox import release_held

FREE_MESSAGES = 8
WINDOW = timedelta(hours=48)
REASON = "zalo_oa_window"

CountParts = Callable[[Sequence[Reply]], int]


@dataclass(frozen=True)
class Window:
    """The free replies after the person's last message."""

    opened_at: datetime
    sent: int

    def allows(self, messages: int, now: datetime) -> bool:
        return now - self.opened_at < WINDOW and self.sent + messages <= FREE_MESSAGES


class ReplyWindow:
    """Decides, before a batch goes out, whether it may go now."""

    def __init__(
        self,
        *,
        channel: str,
        sessionmaker: async_sessionmaker[AsyncSession],
        crypto: Crypto,
        clock: Clock,
        count_parts: CountParts,
    ) -> None:
        self.channel = channel
        self._sessionmaker = sessionmaker
        self._crypto = crypto
        self._clock = clock
        self._count_parts = count_parts

    async def admit(self, address: str, messages: int) -> None:
        """Return if ``messages`` may go to this person now (``address``: their OA user id, which is
        also what their pseudonymous key is made from).

        Raises :class:`Hold` when the window is closed or an earlier message still waits (nothing
        overtakes it), :class:`Retry` after releasing earlier held messages that may go now (they go
        first), :class:`GiveUp` when the conversation was deleted.
        """
        now = self._clock.now()
        user_key = self._crypto.user_key(self.channel, address)
        async with self._sessionmaker() as session, session.begin():
            conversation = await conversations.find(session, channel=self.channel, user_key=user_key)
            if conversation is None:
                raise GiveUp("the conversation no longer exists")
            opened = conversation.last_seen_at
            window = Window(opened, await self._sent_since(session, conversation.id, opened))
            oldest = await self._oldest_held(session, conversation.id)
            released = False
            # Held before the person last wrote, and it fits: the webhook's release has not run yet.
            # (Held since then means Zalo itself refused it: it waits for the person's next message.)
            if oldest is not None and oldest.not_before < opened and window.allows(self._parts(oldest), now):
                released = bool(await release_held(session, conversation_id=conversation.id, now=now))
            hold = not released and (oldest is not None or not window.allows(messages, now))
        if released:
            raise Retry(0, "messages held earlier go first")
        if hold:
            raise Hold(REASON)

    def _parts(self, event: OutboxEvent) -> int:
        payload = self._crypto.decrypt_json(event.payload_enc)
        return self._count_parts([Reply.from_json(r) for r in payload.get("replies", [])])

    async def _sent_since(self, session: AsyncSession, conversation_id: int, since: datetime) -> int:
        rows = await session.execute(
            select(OutboxEvent).where(
                OutboxEvent.kind == "deliver",
                OutboxEvent.channel == self.channel,
                OutboxEvent.conversation_id == conversation_id,
                OutboxEvent.status == "done",
                OutboxEvent.done_at >= since,
            )
        )
        return sum(self._parts(event) for event in rows.scalars())

    async def _oldest_held(self, session: AsyncSession, conversation_id: int) -> OutboxEvent | None:
        query = (
            select(OutboxEvent)
            .where(
                OutboxEvent.kind == "deliver",
                OutboxEvent.conversation_id == conversation_id,
                OutboxEvent.status == "held",
            )
            .order_by(OutboxEvent.id)
            .limit(1)
        )
        return (await session.execute(query)).scalar_one_or_none()
