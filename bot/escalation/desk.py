"""What counsellors do with an escalation: take it (first tap wins), talk, hand over, close.

Every step is one transaction that locks the escalation row, so two counsellors tapping "take" at the
same moment get one winner and one "already taken by ...". Each step is written to the audit log.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.content.flows import Flows
from bot.errors import HotlineError
from bot.escalation.notify import send_to_person
from bot.messages import BY_COUNSELLOR, Reply
from bot.metrics import TAKEN_SECONDS, level_of
from bot.store import checkins
from bot.store.closeform import CloseForm, FormError
from bot.store.crypto import Crypto
from bot.store.desknotes import MAX_NOTE, NoteLine, add_note, notes_of
from bot.store.escalations import OPEN_STATES, OUTCOMES, linked, lock_escalation
from bot.store.ids import is_row_id
from bot.store.models import AuditEntry, Contact, Conversation, Counsellor, DeskNote, Escalation, Message
from bot.store.outbox import enqueue
from bot.store.outbox_kinds import HANDOVER, HandoverPayload

# Why a supervisor reads a case they do not hold. Fixed codes, not free text: free text would invite
# personal data into the audit log. "supervision" (supporting a counsellor live) is for open cases only.
READ_REASONS = ("supervision", "quality_review", "complaint", "safeguarding", "legal_request")
# The holder's console polls the transcript on every new message: one audit row per reader, case and
# reason in this window says as much as one per poll, without burying the other rows.
READ_AUDIT_WINDOW = timedelta(minutes=10)


class DeskError(HotlineError):
    """A counsellor action that cannot be done (not yours, already closed...); the message says why."""


class ReasonNeeded(DeskError):
    """A supervisor reads a case they do not hold: ask them for one of :data:`READ_REASONS`."""


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


@dataclass(frozen=True)
class EarlierCase:
    """One earlier request for a person by the same pseudonymous person: no words, no identity."""

    opened: datetime
    kind: str
    outcome: str | None
    risk: str | None  # the risk the counsellor judged at the end (the close form)


@dataclass(frozen=True)
class History:
    """What the desk shows of a returning person: how many earlier contacts, and their cases' outcomes
    and risk levels; ``earlier_messages``: whether retention still holds words from before this contact
    (the counsellor may open them, audited)."""

    contacts: int
    cases: tuple[EarlierCase, ...]
    earlier_messages: int


def level_of_kind(kind: str) -> str:
    """The queue's level of an escalation: ``emergency`` (the safety check found one) or ``person`` (the
    person asked for a counsellor or a call-back). The third level, ``possible`` (the bot asked "are you
    in danger right now?"), is never an escalation: the console lists it apart."""
    return "emergency" if kind == "emergency" else "person"


class Desk:
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

    async def _lock(self, session: AsyncSession, escalation_id: int) -> Escalation:
        # An id no row can have would make the database driver raise (a 500), whoever sent it.
        escalation = await lock_escalation(session, escalation_id) if is_row_id(escalation_id) else None
        if escalation is None:
            raise DeskError(f"there is no escalation #{escalation_id}")
        return escalation

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
        session.add(
            AuditEntry(
                staff_id=staff_id,
                counsellor_id=counsellor_id,
                action=action,
                escalation_id=escalation.id,
                conversation_id=escalation.conversation_id,
                at=now,
            )
        )

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

    async def _may_read(
        self, session: AsyncSession, escalation_id: int, counsellor_id: int | None, *, supervisor: bool,
        reason: str | None,
    ) -> tuple[Escalation, str | None]:  # fmt: skip
        """Lock the case and check the reader: its holder, or a supervisor with a reason. Returns the case
        and the reason to record (none for the holder)."""
        escalation = await self._lock(session, escalation_id)
        holds = (
            counsellor_id is not None
            and escalation.status == "taken"
            and escalation.taken_by == counsellor_id
        )
        if not holds:
            if not supervisor:
                raise DeskError(f"take #{escalation_id} before reading it")
            check_reason(reason, escalation)
        return escalation, None if holds else reason  # the holder needs no reason; one given is not theirs

    def _audit_read(
        self, session: AsyncSession, action: str, escalation: Escalation, counsellor_id: int | None,
        staff_id: int | None, reason: str | None, now: datetime, via: str,
    ) -> None:  # fmt: skip
        session.add(
            AuditEntry(
                staff_id=staff_id,
                counsellor_id=counsellor_id,
                action=action,
                escalation_id=escalation.id,
                conversation_id=escalation.conversation_id,
                at=now,
                reason=reason,
                detail={"via": via, "status": escalation.status},
            )
        )

    async def _lines(self, session: AsyncSession, conversation_id: int) -> list[tuple[str, str, datetime]]:
        """The one place that reads transcripts from the store; its callers audit the read."""
        from bot.store.conversations import transcript

        return await transcript(session, self.crypto, conversation_id)

    async def _since(self, session: AsyncSession, escalation: Escalation) -> datetime | None:
        """When this case's contact (chat session) began: the transcript starts there; words from earlier
        contacts are opened apart (:meth:`earlier_transcript`)."""
        if escalation.contact_id is None:
            return None
        return await session.scalar(select(Contact.started_at).where(Contact.id == escalation.contact_id))

    async def transcript(
        self,
        escalation_id: int,
        counsellor_id: int | None,
        *,
        staff_id: int | None,
        supervisor: bool = False,
        reason: str | None = None,
        via: str = "console",
    ) -> list[tuple[str, str, datetime]]:
        """This contact's conversation, for the counsellor who holds it, or for a supervisor with a reason.

        Every route reads a transcript through here, so every read is audited (``open_transcript``). The
        holder's page polls on every new message, so their reads of one case are written once per
        :data:`READ_AUDIT_WINDOW` rather than once per poll; a supervisor's read of a case they do not
        hold (closed ones included) needs one of :data:`READ_REASONS`, and is written with it, again
        once per window for the same case and reason. Words from the person's earlier contacts, if
        retention still holds them, are not here: :meth:`earlier_transcript` opens them.
        """
        now = self.clock.now()
        async with self.sessionmaker() as session, session.begin():
            escalation, recorded = await self._may_read(
                session, escalation_id, counsellor_id, supervisor=supervisor, reason=reason
            )
            action = "open_transcript"
            if not await self._read_recently(
                session, escalation, counsellor_id, staff_id, recorded, now, action
            ):
                self._audit_read(session, action, escalation, counsellor_id, staff_id, recorded, now, via)
            if escalation.conversation_id is None:
                return []
            since = await self._since(session, escalation)
            lines = await self._lines(session, escalation.conversation_id)
            return [line for line in lines if since is None or line[2] >= since]

    async def earlier_transcript(
        self, escalation_id: int, counsellor_id: int | None, *, staff_id: int | None, supervisor: bool = False,
        reason: str | None = None,
    ) -> list[tuple[str, str, datetime]]:  # fmt: skip
        """The returning person's words from before this contact, as far as retention still holds them;
        opened by the counsellor on purpose, and audited every time (``open_earlier``)."""
        now = self.clock.now()
        async with self.sessionmaker() as session, session.begin():
            escalation, recorded = await self._may_read(
                session, escalation_id, counsellor_id, supervisor=supervisor, reason=reason
            )
            self._audit_read(
                session, "open_earlier", escalation, counsellor_id, staff_id, recorded, now, "console"
            )
            since = await self._since(session, escalation)
            if escalation.conversation_id is None or since is None:
                return []
            lines = await self._lines(session, escalation.conversation_id)
            return [line for line in lines if line[2] < since]

    async def notes(
        self, escalation_id: int, counsellor_id: int | None, *, staff_id: int | None, supervisor: bool = False,
        reason: str | None = None,
    ) -> list[NoteLine]:  # fmt: skip
        """The conversation's notes (hand-over notes included), for whoever may read the transcript;
        audited like it (``read_notes``, once per reader, case and reason in :data:`READ_AUDIT_WINDOW`)."""
        now = self.clock.now()
        async with self.sessionmaker() as session, session.begin():
            escalation, recorded = await self._may_read(
                session, escalation_id, counsellor_id, supervisor=supervisor, reason=reason
            )
            action = "read_notes"
            if escalation.conversation_id is None:
                return []
            found = await notes_of(session, self.crypto, escalation.conversation_id)
            if found and not await self._read_recently(
                session, escalation, counsellor_id, staff_id, recorded, now, action
            ):
                self._audit_read(
                    session, action, escalation, counsellor_id, staff_id, recorded, now, "console"
                )
            return found

    async def history(
        self,
        escalation_id: int,
        counsellor_id: int | None,
        *,
        supervisor: bool = False,
        reason: str | None = None,
    ) -> History:
        """Context without identity: the same pseudonymous person's earlier contacts (by the statistics'
        keyed hash of their chat, so never across channels, and never after they deleted their data),
        and their cases' outcomes and end risks. No words, no name, no address."""
        async with self.sessionmaker() as session:
            escalation, _ = await self._may_read(
                session, escalation_id, counsellor_id, supervisor=supervisor, reason=reason
            )
            contact = await session.get(Contact, escalation.contact_id) if escalation.contact_id else None
            if contact is None:
                return History(0, (), 0)
            earlier = select(Contact.id).where(
                Contact.stats_key == contact.stats_key,
                Contact.channel == contact.channel,
                Contact.id != contact.id,
                Contact.started_at < contact.started_at,
            )
            contacts = await session.scalar(select(func.count()).select_from(earlier.subquery()))
            rows = await session.execute(
                select(Escalation.created_at, Escalation.kind, Escalation.outcome, Escalation.close_risk)
                .where(Escalation.contact_id.in_(earlier))
                .order_by(Escalation.created_at.desc())
            )
            cases = tuple(EarlierCase(r.created_at, r.kind, r.outcome, r.close_risk) for r in rows.all())
            words = 0
            if escalation.conversation_id is not None:
                words = int(
                    await session.scalar(
                        select(func.count(Message.id)).where(
                            Message.conversation_id == escalation.conversation_id,
                            Message.created_at < contact.started_at,
                        )
                    )
                    or 0
                )
            await session.rollback()  # _may_read locked the row: a read only
            return History(int(contacts or 0), cases, words)

    async def _read_recently(
        self, session: AsyncSession, escalation: Escalation, counsellor_id: int | None, staff_id: int | None,
        reason: str | None, now: datetime, action: str = "open_transcript",
    ) -> bool:  # fmt: skip
        """Whether the same reader read this case, for the same reason, within the audit window."""
        query = select(AuditEntry.id).where(
            AuditEntry.action == action,
            AuditEntry.escalation_id == escalation.id,
            AuditEntry.at > now - READ_AUDIT_WINDOW,
            AuditEntry.reason.is_(None) if reason is None else AuditEntry.reason == reason,
        )
        if staff_id is not None:
            query = query.where(AuditEntry.staff_id == staff_id)
        elif counsellor_id is not None:
            query = query.where(AuditEntry.staff_id.is_(None), AuditEntry.counsellor_id == counsellor_id)
        else:
            return False
        return (await session.scalar(query.limit(1))) is not None


def check_reason(reason: str | None, escalation: Escalation) -> None:
    """Refuse a read by someone who does not hold the case without one of :data:`READ_REASONS`."""
    if reason is None or reason == "":
        raise ReasonNeeded(
            f"#{escalation.id} is not held by you: give a reason to read it ({', '.join(READ_REASONS)})"
        )
    if reason not in READ_REASONS:
        raise ReasonNeeded(f"the reason must be one of: {', '.join(READ_REASONS)}")
    if reason == "supervision" and escalation.status not in OPEN_STATES:
        raise ReasonNeeded(f"#{escalation.id} is closed: supervision is for open cases")
