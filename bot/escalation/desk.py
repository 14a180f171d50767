"""What counsellors do with an escalation: take it (first tap wins), talk, hand over, close.

Every step is one transaction that locks the escalation row, so two counsellors tapping "take" at the
same moment get one winner and one "already taken by ...". Each step is written to the audit log.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.content.flows import Flows
from bot.escalation.notify import send_to_person
from bot.escalation.reading import (
    READ_AUDIT_WINDOW,
    READ_REASONS,
    CaseReader,
    DeskError,
    EarlierCase,
    History,
    ReasonNeeded,
    audit,
    check_reason,
)
from bot.messages import BY_COUNSELLOR, Reply
from bot.metrics import TAKEN_SECONDS, level_of
from bot.store import checkins
from bot.store.closeform import CloseForm, FormError
from bot.store.crypto import Crypto
from bot.store.desknotes import MAX_NOTE, add_note
from bot.store.escalations import OPEN_STATES, OUTCOMES, linked
from bot.store.ids import is_row_id
from bot.store.models import AuditEntry, Contact, Conversation, Counsellor, DeskNote, Escalation
from bot.store.outbox import enqueue
from bot.store.outbox_kinds import HANDOVER, HandoverPayload

# Re-exported: the console, Telegram and tests import these from the desk.
__all__ = [
    "READ_AUDIT_WINDOW", "READ_REASONS", "Desk", "DeskError", "EarlierCase", "History", "QueueItem",
    "ReasonNeeded", "TakeResult", "check_reason", "level_of_kind",
]  # fmt: skip


@dataclass(frozen=True)
class TakeResult:
    taken: bool
    holder: str | None  # who holds it now
    escalation_id: int


@dataclass(frozen=True)
class QueueItem:
    """One line of the live queue."""

    escalation_id: int
    kind: str
    risk: str | None
    channel: str
    status: str
    created_at: datetime
    holder: str | None
    holder_id: int | None
    waited_seconds: int
    flooded: bool = False  # opened by a client over its flood cap: listed after the others, not paged
    checkin_set_at: datetime | None = None  # a missed safety check-in: when the person set it
    locale: str | None = None  # the language the person writes in (vi | en), when known
    handed_over: bool = False  # held after a hand-over with a note to the holder


def level_of_kind(kind: str) -> str:
    """The queue's level of an escalation: ``emergency`` (the safety check found one) or ``person`` (the
    person asked for a counsellor or a call-back). The third level, ``possible`` (the bot asked "are you
    in danger right now?"), is never an escalation: the console lists it apart."""
    return "emergency" if kind == "emergency" else "person"


class Desk(CaseReader):
    """Counsellor actions on escalations."""

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        crypto: Crypto,
        clock: Clock,
        flows: Flows,
        push_channels: frozenset[str],
    ) -> None:
        self.sessionmaker = sessionmaker
        self.crypto = crypto
        self.clock = clock
        self.flows = flows
        self.push_channels = push_channels

    async def counsellor_by_key(self, telegram_user_hash: str) -> Counsellor | None:
        """The active counsellor with this keyed hash of a Telegram user id (:mod:`bot.escalation.rota`)."""
        async with self.sessionmaker() as session:
            query = select(Counsellor).where(
                Counsellor.telegram_user_hash == telegram_user_hash, Counsellor.active
            )
            return (await session.execute(query)).scalar_one_or_none()

    async def held_by(self, counsellor_id: int) -> list[int]:
        """The escalations a counsellor holds now, the earliest taken first."""
        async with self.sessionmaker() as session:
            rows = await session.execute(
                select(Escalation.id)
                .where(Escalation.taken_by == counsellor_id, Escalation.status == "taken")
                .order_by(Escalation.taken_at)
            )
            return [int(i) for i in rows.scalars()]

    async def _tell(
        self, session: AsyncSession, conversation: Conversation | None, key: str, now: datetime, **values: str
    ) -> None:
        if conversation is None:
            return
        text = self.flows.string(key, conversation.locale, **values)
        await send_to_person(
            session,
            self.crypto,
            conversation=conversation,
            replies=[Reply(text)],
            now=now,
            push_channels=self.push_channels,
        )

    def _audit(
        self, session: AsyncSession, action: str, escalation: Escalation, counsellor_id: int | None, now: datetime,
        staff_id: int | None = None,
    ) -> None:  # fmt: skip
        audit(session, action, escalation, counsellor_id=counsellor_id, staff_id=staff_id, now=now)

    async def take(
        self, escalation_id: int, counsellor_id: int, *, via: str, staff_id: int | None = None
    ) -> TakeResult:
        """Take an escalation. The first counsellor wins; the others learn who has it."""
        now = self.clock.now()
        async with self.sessionmaker() as session, session.begin():
            escalation = await self._lock(session, escalation_id)
            counsellor = await session.get(Counsellor, counsellor_id)
            if counsellor is None or not counsellor.active:
                raise DeskError("this counsellor account is not active")
            if escalation.status != "open":
                holder = await session.get(Counsellor, escalation.taken_by) if escalation.taken_by else None
                return TakeResult(False, holder.display_name if holder else None, escalation_id)
            escalation.status = "taken"
            escalation.taken_by = counsellor_id
            escalation.taken_at = now
            contact, conversation = await linked(session, escalation)
            if contact is not None:
                contact.taken_at = now
            if conversation is not None:
                conversation.held_by = counsellor_id
                conversation.escalation_id = escalation.id
                conversation.context = {**(conversation.context or {}), "held_via": via}
            self._audit(session, "take", escalation, counsellor_id, now, staff_id)
            await self._tell(session, conversation, "counsellor_joined", now, name=counsellor.display_name)
            level, waited = level_of(escalation.kind), (now - escalation.created_at).total_seconds()
            name = counsellor.display_name
        TAKEN_SECONDS.labels(level=level).observe(max(waited, 0.0))  # once committed: the take is real
        return TakeResult(True, name, escalation_id)

    async def _held(self, session: AsyncSession, escalation_id: int, counsellor_id: int) -> Escalation:
        escalation = await self._lock(session, escalation_id)
        if escalation.status != "taken" or escalation.taken_by != counsellor_id:
            raise DeskError(f"#{escalation_id} is not held by you: take it first")
        return escalation

    async def reply(self, escalation_id: int, counsellor_id: int, text: str) -> None:
        """Send the counsellor's message to the person, through the person's own channel."""
        text = text.strip()
        if not text:
            raise DeskError("the message is empty")
        if len(text) > 4000:
            raise DeskError("the message is longer than 4000 characters")
        now = self.clock.now()
        async with self.sessionmaker() as session, session.begin():
            escalation = await self._held(session, escalation_id, counsellor_id)
            counsellor = await session.get(Counsellor, counsellor_id)
            _, conversation = await linked(session, escalation)
            if conversation is None:
                raise DeskError("the person deleted this conversation; it can only be closed")
            name = counsellor.display_name if counsellor else "?"
            message = self.flows.string("counsellor_message", conversation.locale, name=name, text=text)
            await send_to_person(
                session,
                self.crypto,
                conversation=conversation,
                replies=[Reply(message, tags=(BY_COUNSELLOR,))],
                now=now,
                push_channels=self.push_channels,
                direction="staff",
            )

    async def hand_over(
        self, escalation_id: int, counsellor_id: int, to_counsellor_id: int, *, note: str | None = None,
        staff_id: int | None = None,
    ) -> str:  # fmt: skip
        """Pass a held escalation to another counsellor; returns their name. With a ``note`` (a warm
        hand-over), the note is kept for the next counsellor in the console and they are paged: the page
        says only that a case was handed over to them with a note, never the note."""
        note = (note or "").strip() or None
        if note is not None and len(note) > MAX_NOTE:
            raise DeskError(f"the note is longer than {MAX_NOTE} characters")
        now = self.clock.now()
        async with self.sessionmaker() as session, session.begin():
            escalation = await self._held(session, escalation_id, counsellor_id)
            other = await session.get(Counsellor, to_counsellor_id) if is_row_id(to_counsellor_id) else None
            if other is None or not other.active or other.id == counsellor_id:
                raise DeskError("hand over to another active counsellor")
            escalation.taken_by = other.id
            _, conversation = await linked(session, escalation)
            if conversation is not None:
                conversation.held_by = other.id
                conversation.context = {**(conversation.context or {}), "held_via": "console"}
            if note is not None and conversation is not None:
                await add_note(
                    session, self.crypto, conversation_id=conversation.id, escalation_id=escalation.id,
                    counsellor_id=counsellor_id, text=note, now=now, kind="handover", to_counsellor_id=other.id,
                )  # fmt: skip
                payload: HandoverPayload = {
                    "escalation_id": escalation.id,
                    "counsellor_id": other.id,
                    "from_counsellor_id": counsellor_id,
                }
                await enqueue(
                    session, self.crypto, kind=HANDOVER, payload=payload, now=now, escalation_id=escalation.id
                )
            session.add(
                AuditEntry(
                    staff_id=staff_id, counsellor_id=counsellor_id, action="hand_over", escalation_id=escalation.id,
                    conversation_id=escalation.conversation_id, at=now,
                    detail={"to": other.id, "note": note is not None and conversation is not None},
                )
            )  # fmt: skip
            await self._tell(session, conversation, "counsellor_joined", now, name=other.display_name)
            return other.display_name

    async def add_note(
        self, escalation_id: int, counsellor_id: int, text: str, *, staff_id: int | None = None
    ) -> None:
        """A note on the conversation, for staff only (encrypted, audited); only the holder writes one."""
        text = text.strip()
        if not text:
            raise DeskError("the note is empty")
        if len(text) > MAX_NOTE:
            raise DeskError(f"the note is longer than {MAX_NOTE} characters")
        now = self.clock.now()
        async with self.sessionmaker() as session, session.begin():
            escalation = await self._held(session, escalation_id, counsellor_id)
            if escalation.conversation_id is None:
                raise DeskError("the person deleted this conversation; it can only be closed")
            note = await add_note(
                session, self.crypto, conversation_id=escalation.conversation_id, escalation_id=escalation.id,
                counsellor_id=counsellor_id, text=text, now=now,
            )  # fmt: skip
            session.add(
                AuditEntry(
                    staff_id=staff_id, counsellor_id=counsellor_id, action="add_note", escalation_id=escalation.id,
                    conversation_id=escalation.conversation_id, at=now, detail={"note": note.id},
                )
            )  # fmt: skip

    async def close(
        self, escalation_id: int, counsellor_id: int, outcome: str, *, supervisor: bool = False,
        staff_id: int | None = None, form: CloseForm | None = None, directory_ids: set[str] | None = None,
    ) -> None:  # fmt: skip
        """Close with an outcome code; the conversation goes back to the bot. ``form``: the short form
        (bot/store/closeform.py), checked against the referral directory's ids; its codes are kept on the
        escalation for the statistics."""
        if outcome not in OUTCOMES:
            raise DeskError(f"the outcome must be one of: {', '.join(OUTCOMES)}")
        if form is not None:
            try:
                form.check(directory_ids or set())
            except FormError as exc:
                raise DeskError(str(exc)) from exc
        now = self.clock.now()
        async with self.sessionmaker() as session, session.begin():
            escalation = await self._lock(session, escalation_id)
            if escalation.status not in OPEN_STATES:
                raise DeskError(f"#{escalation_id} is already closed")
            if escalation.taken_by != counsellor_id and not supervisor:
                raise DeskError(f"#{escalation_id} is not held by you")
            escalation.status = "closed"
            escalation.closed_at = now
            escalation.outcome = outcome
            if form is not None:
                escalation.close_reasons = list(form.reasons)
                escalation.close_risk = form.risk
                escalation.close_referrals = list(form.referrals)
                escalation.follow_up = form.follow_up
            contact, conversation = await linked(session, escalation)
            if contact is not None:
                contact.closed_at = now
                contact.outcome = outcome
            if conversation is not None:
                conversation.held_by = None
                conversation.escalation_id = None
                conversation.node = "main.menu"
                context = dict(conversation.context or {})
                context.pop("held_via", None)
                context.pop("risk", None)
                conversation.context = context
            self._audit(session, "close", escalation, counsellor_id, now, staff_id)
            if escalation.taken_by is not None:
                await self._tell(session, conversation, "counsellor_closed", now)

    async def queue(self) -> list[QueueItem]:
        """Open and held escalations: emergencies first, then the longest waiting; those from a flooding
        client (``flooded``) after the others of their status, so a flood cannot push a real person down."""
        now = self.clock.now()
        async with self.sessionmaker() as session:
            risk_first = case(
                (Escalation.kind == "emergency", 0), (Escalation.kind == "callback", 2), else_=1
            )
            rows = await session.execute(
                select(
                    Escalation, Counsellor.display_name, func.coalesce(Conversation.locale, Contact.locale)
                )
                .outerjoin(Counsellor, Counsellor.id == Escalation.taken_by)
                .outerjoin(Conversation, Conversation.id == Escalation.conversation_id)
                .outerjoin(Contact, Contact.id == Escalation.contact_id)
                .where(Escalation.status.in_(OPEN_STATES))
                .order_by(
                    case((Escalation.status == "open", 0), else_=1),
                    Escalation.flooded,
                    risk_first,
                    Escalation.created_at,
                )
            )
            found = rows.all()
            missed = await checkins.for_escalations(session, [e.id for e, _, _ in found])
            handovers = await session.execute(
                select(DeskNote.escalation_id, DeskNote.to_counsellor_id).where(
                    DeskNote.kind == "handover", DeskNote.escalation_id.in_([e.id for e, _, _ in found])
                )
            )
            handed = {(int(i), to) for i, to in handovers.all() if i is not None}
            return [
                QueueItem(
                    escalation_id=e.id,
                    kind=e.kind,
                    risk=e.risk,
                    channel=e.channel,
                    status=e.status,
                    created_at=e.created_at,
                    holder=name,
                    holder_id=e.taken_by,
                    waited_seconds=int((now - e.created_at).total_seconds()),
                    flooded=e.flooded,
                    checkin_set_at=missed[e.id].set_at if e.id in missed else None,
                    locale=locale,
                    handed_over=e.status == "taken" and (e.id, e.taken_by) in handed,
                )
                for e, name, locale in found
            ]
