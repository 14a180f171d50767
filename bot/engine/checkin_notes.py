"""A check-in that ends in an emergency: its note goes to the counsellor, in the transcript.

Apart from :mod:`bot.engine.checkin` (the flow's actions) because the emergency action calls it.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from bot.engine.turn import Turn
from bot.store import checkins
from bot.store.conversations import add_message
from bot.store.models import Checkin

TIME = "checkin_time"  # context: the clock time of the running check-in, as the person reads it ("21:30")


def clock_time(turn: Turn, when: datetime) -> str:
    """``when`` on the clock of the service's time zone ("21:30")."""
    return when.astimezone(ZoneInfo(turn.deps.settings.timezone)).strftime("%H:%M")


async def end_in_emergency(turn: Turn, escalation_id: int) -> None:
    """An emergency opened while a check-in runs ("Cần giúp", or danger written at any time): the
    check-in ends there, and its note goes into the transcript the counsellor reads."""
    running = await checkins.active(turn.session, turn.conversation.id)
    if running is None:
        return
    await write_note_for_staff(turn, running)
    await checkins.end(
        turn.session, running, stage=checkins.ESCALATED, now=turn.now, escalation_id=escalation_id
    )
    turn.context_set(**{TIME: None})


async def write_note_for_staff(turn: Turn, checkin: Checkin) -> None:
    """The check-in's time and note as a transcript line (encrypted, purged with the transcript)."""
    note = checkins.note(turn.deps.crypto, checkin)
    line = turn.deps.flows.string(
        "staff_checkin_note",
        "vi",
        set_at=clock_time(turn, checkin.set_at),
        due=clock_time(turn, checkin.due_at),
        note=note or "-",
    )
    await add_message(
        turn.session, turn.deps.crypto, conversation_id=turn.conversation.id, direction="in", text=line,
        now=turn.now,
    )  # fmt: skip
