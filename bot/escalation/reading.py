"""Reading a case at the desk: the transcript, the returning person's earlier words, the staff notes and
the context without identity. Every read is checked (the holder, or a supervisor with a reason) and
audited; :class:`bot.escalation.desk.Desk` is a :class:`CaseReader`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.errors import HotlineError
from bot.store.crypto import Crypto
from bot.store.desknotes import NoteLine, notes_of
from bot.store.escalations import OPEN_STATES, lock_escalation
from bot.store.ids import is_row_id
from bot.store.models import AuditEntry, Contact, Escalation, Message

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


def audit(
    session: AsyncSession, action: str, escalation: Escalation, *, counsellor_id: int | None,
    staff_id: int | None, now: datetime, reason: str | None = None, detail: dict[str, str] | None = None,
) -> None:  # fmt: skip
    """One line of the staff audit trail about a case, in the caller's transaction."""
    session.add(
        AuditEntry(
            staff_id=staff_id, counsellor_id=counsellor_id, action=action, escalation_id=escalation.id,
            conversation_id=escalation.conversation_id, at=now, reason=reason, detail=detail,
        )
    )  # fmt: skip


class CaseReader:
    """The desk's reads of a case, each checked and audited."""

    sessionmaker: async_sessionmaker[AsyncSession]
    crypto: Crypto
    clock: Clock

    async def _lock(self, session: AsyncSession, escalation_id: int) -> Escalation:
        # An id no row can have would make the database driver raise (a 500), whoever sent it.
        escalation = await lock_escalation(session, escalation_id) if is_row_id(escalation_id) else None
        if escalation is None:
            raise DeskError(f"there is no escalation #{escalation_id}")
        return escalation

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
        audit(
            session, action, escalation, counsellor_id=counsellor_id, staff_id=staff_id, now=now, reason=reason,
            detail={"via": via, "status": escalation.status},
        )  # fmt: skip

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
