"""What happens when a safety check-in's time comes: the outbox handler of ``checkin_due``.

At the time set: "are you OK?" (``checkin.due``) with one tap to answer, ask for help or add 30 minutes.
No answer within ``checkin_remind_minutes``: a second, louder message (``checkin.reminder``). No answer
``checkin_escalate_minutes`` after that: an escalation at ``emergency`` level (risk ``missed_checkin``),
paged like any emergency, its note in the transcript for the counsellor who takes it, and the person
told (``checkin.missed``). In discreet mode the ``*_discreet`` nodes say the same without "safety".

Each step is one transaction: the check-in's stage, its next timer (an outbox event at its time, so a
restart loses nothing), the messages to the person (``deliver`` or the web chat's ``inbox``) and the
page are written together. A timer made void since (the person answered, extended, cancelled, deleted
their data) finds nothing to do.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.engine.checkin_notes import TIME, clock_time, write_note_for_staff
from bot.engine.deps import EngineDeps
from bot.engine.steps import run_from
from bot.engine.turn import unprompted_turn
from bot.escalation.notify import send_to_person
from bot.outbox.dispatcher import Dispatcher, Event
from bot.store import checkins
from bot.store.contacts import current_contact
from bot.store.crypto import Crypto
from bot.store.escalations import open_escalation
from bot.store.locking import for_update
from bot.store.models import Checkin, Conversation, Escalation
from bot.store.outbox_kinds import CHECKIN_DUE, PHONE_CHECKIN, due_payload

log = logging.getLogger(__name__)

MISSED = "missed_checkin"
"""The escalation's ``risk`` when nobody answered a check-in (pages and the console name it)."""
ASK_NODE = "checkin.due"
REMIND_NODE = "checkin.reminder"
MISSED_NODE = "checkin.missed"
DISCREET = "_discreet"


async def missed_checkin(
    session: AsyncSession, crypto: Crypto, checkin: Checkin, *, now: datetime, gap: timedelta
) -> Escalation | None:
    """Nobody answered a check-in's call-backs: an ``emergency`` escalation (risk ``missed_checkin``),
    paged like any emergency and shown in the console as a missed check-in; the check-in ends, its
    number wiped. ``gap``: the engine's session gap (a later call is a new contact).
    """
    conversation = await session.get(Conversation, checkin.conversation_id)
    if conversation is None:  # deleted with the person's data: nothing to page about, nobody to call
        await checkins.end(session, checkin, stage=checkins.CANCELLED, now=now)
        return None
    contact = await current_contact(
        session, conversation, now=now, stats_key=lambda: crypto.stats_key(conversation.user_key), gap=gap
    )
    escalation, _new = await open_escalation(
        session, crypto, conversation=conversation, contact=contact, kind="emergency", risk=MISSED, now=now
    )
    await checkins.end(session, checkin, stage=checkins.ESCALATED, now=now, escalation_id=escalation.id)
    return escalation


class CheckinTimer:
    """The ``checkin_due`` handler: ask, remind, escalate."""

    def __init__(self, deps: EngineDeps) -> None:
        self.deps = deps

    def register(self, dispatcher: Dispatcher) -> None:
        dispatcher.register(CHECKIN_DUE, self.on_due)
        if PHONE_CHECKIN not in dispatcher.handlers:
            # The phone line is off in this process (its settings removed since a caller set a
            # check-in, or it failed to start): nobody can call the person back, so the timer pages.
            dispatcher.register(PHONE_CHECKIN, self.on_phone_line_off)

    async def on_phone_line_off(self, event: Event) -> None:
        """A phone check-in's time came and no phone line runs to call back: escalate it at once.

        Without this the timer would wait, unclaimed, for a phone line that may never come back, and a
        person who asked to be called would be forgotten.
        """
        deps = self.deps
        gap = timedelta(minutes=deps.settings.session_gap_minutes)
        async with deps.sessionmaker() as session, session.begin():
            checkin = await checkins.due(session, due_payload(event.payload))
            if checkin is None:
                return
            escalation = await missed_checkin(session, deps.crypto, checkin, now=deps.clock.now(), gap=gap)
            if escalation is not None:
                log.warning(
                    "phone check-in #%d due while the phone line is off: escalation #%d",
                    checkin.id,
                    escalation.id,
                )
        if deps.after_commit is not None:
            deps.after_commit()

    async def on_due(self, event: Event) -> None:
        deps = self.deps
        payload = due_payload(event.payload)
        now = deps.clock.now()
        async with deps.sessionmaker() as session, session.begin():
            conversation_id = await session.scalar(
                select(Checkin.conversation_id).where(Checkin.id == payload["checkin_id"])
            )
            if conversation_id is None:
                return  # deleted with the person's data
            # The conversation first, then the check-in: the order the engine takes them in.
            conversation = (
                await session.execute(
                    for_update(session, select(Conversation).where(Conversation.id == conversation_id))
                )
            ).scalar_one_or_none()
            checkin = await checkins.due(session, payload)
            if conversation is None or checkin is None:
                return
            turn = await unprompted_turn(session, deps, conversation, now)
            turn.context_set(**{TIME: clock_time(turn, checkin.due_at)})
            settings = deps.settings
            if checkin.stage == checkins.SET:
                next_at = now + timedelta(minutes=settings.checkin_remind_minutes)
                await checkins.advance(
                    session, deps.crypto, checkin, stage=checkins.ASKED, now=now, next_at=next_at
                )
                node = ASK_NODE
            elif checkin.stage == checkins.ASKED:
                next_at = now + timedelta(minutes=settings.checkin_escalate_minutes)
                await checkins.advance(
                    session, deps.crypto, checkin, stage=checkins.REMINDED, now=now, next_at=next_at
                )
                node = REMIND_NODE
            else:
                escalation, _new = await open_escalation(
                    session, deps.crypto, conversation=conversation, contact=turn.contact, kind="emergency",
                    risk=MISSED, now=now,
                )  # fmt: skip
                await write_note_for_staff(turn, checkin)
                await checkins.end(
                    session, checkin, stage=checkins.ESCALATED, now=now, escalation_id=escalation.id
                )
                log.info("check-in #%d not answered: escalation #%d", checkin.id, escalation.id)
                node = MISSED_NODE
            await run_from(turn, node + DISCREET if checkin.discreet else node)
            if node == MISSED_NODE:
                turn.context_set(**{TIME: None})
            await send_to_person(
                session,
                deps.crypto,
                conversation=conversation,
                replies=turn.replies,
                now=now,
                push_channels=deps.push_channels,
            )
        if deps.after_commit is not None:
            deps.after_commit()
