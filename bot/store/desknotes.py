"""Notes on a conversation, for staff only (the counsellor's desk, issue 21): a counsellor's note, or the
note that goes with a hand-over. The text is encrypted; the rows go with the conversation (erasure,
bot/store/erasure.py) and with its messages (retention, bot/store/retention.py). Reading and writing
them is audited by the desk (bot/escalation/desk.py), never here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from bot.store.crypto import Crypto
from bot.store.models import Counsellor, DeskNote

MAX_NOTE = 2000
NOTE_KINDS = ("note", "handover")


@dataclass(frozen=True)
class NoteLine:
    """One note as the console shows it."""

    id: int
    kind: str
    text: str
    at: datetime
    by: str | None  # the counsellor who wrote it
    to: str | None  # hand-over: the counsellor it went to
    escalation_id: int | None


async def add_note(
    session: AsyncSession, crypto: Crypto, *, conversation_id: int, escalation_id: int | None,
    counsellor_id: int | None, text: str, now: datetime, kind: str = "note", to_counsellor_id: int | None = None,
) -> DeskNote:  # fmt: skip
    """Write one note (the caller checked who may, and audits it)."""
    if kind not in NOTE_KINDS:
        raise ValueError(f"a note's kind is one of {NOTE_KINDS}")
    note = DeskNote(
        conversation_id=conversation_id,
        escalation_id=escalation_id,
        kind=kind,
        counsellor_id=counsellor_id,
        to_counsellor_id=to_counsellor_id,
        text_enc=crypto.encrypt(text),
        created_at=now,
    )
    session.add(note)
    await session.flush()
    return note


async def notes_of(session: AsyncSession, crypto: Crypto, conversation_id: int) -> list[NoteLine]:
    """A conversation's notes, oldest first, decrypted (the caller audits the read)."""
    by, to = aliased(Counsellor), aliased(Counsellor)
    rows = await session.execute(
        select(DeskNote, by.display_name, to.display_name)
        .outerjoin(by, by.id == DeskNote.counsellor_id)
        .outerjoin(to, to.id == DeskNote.to_counsellor_id)
        .where(DeskNote.conversation_id == conversation_id)
        .order_by(DeskNote.created_at, DeskNote.id)
    )
    return [
        NoteLine(n.id, n.kind, crypto.decrypt(n.text_enc), n.created_at, by_name, to_name, n.escalation_id)
        for n, by_name, to_name in rows.all()
    ]
