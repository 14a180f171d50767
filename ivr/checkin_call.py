"""The check-in call-back: "press one if you are safe, two if you need help".

At the check-in's time the outbox runs :meth:`CheckinCall.place_checkin_call`, which has Twilio ring the
person from the hotline's number (:class:`~ivr.checkin_dialer.CallbackDialer`). One is safe: the
check-in ends and the number is wiped. Two (or nine) is the phone line's emergency, as on any menu: the
engine's emergency (an escalation, paged) and the counsellors on call rung at once. No answer, busy, a
failed call, or no key (asked twice) is a missed call: the first call is made again ten minutes after
it was placed (``HOTLINE_CHECKIN_REMIND_MINUTES``, as a chat check-in's reminder), and a missed second
call is escalated at once like a missed chat check-in (an ``emergency`` page, the console's "missed
check-in").

Each call writes the check-in's next timer when it is placed (an outbox event, so a restart loses
nothing): the second call, or after the second call the escalation, which a missed call only brings
forward. Even if Twilio never reports on a call, nobody is left unchecked. (A timer is never moved
earlier: the outbox sends a check-in's events in the order they were written.)

Which call a request is about is in its URL (the check-in's id and the attempt, signed by Twilio with
the whole URL). ``call_ref`` on the check-in is the keyed hash of the ringing call's id: a call whose
miss was already counted, or an older call, changes nothing, so Twilio's repeated or late callbacks
are harmless.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from twilio.twiml.voice_response import VoiceResponse

from bot.escalation.checkins import missed_checkin
from bot.outbox.dispatcher import Event, Retry
from bot.store import checkins
from bot.store.locking import for_update
from bot.store.models import Checkin
from bot.store.outbox_kinds import PHONE_CHECKIN, due_payload
from ivr.calls import CHANNEL, FINAL_STATUSES
from ivr.checkin_dialer import CallRefused
from ivr.checkin_menu import CheckinMenu
from ivr.keys import DANGER
from ivr.state import Caller, CallState
from ivr.urls import CHECKIN_ANSWER

log = logging.getLogger(__name__)

SAFE = "1"
HELP = ("2", DANGER)
CALL_REF_CHANNEL = "phone-checkin"  # call ids of call-backs, as keyed hashes in checkins.call_ref
STAGE_OF_ATTEMPT = {1: checkins.ASKED, 2: checkins.REMINDED}  # the stage while a call rings
ATTEMPT_AT = {checkins.SET: 1, checkins.ASKED: 2}  # the stage when a timer fires -> the call to place
LAST_ATTEMPT = 2
PLACE_TRIES = 4  # Twilio down: tries to place one call (RETRY_SECONDS apart) before it counts as missed


class CheckinCall(CheckinMenu):
    """The call-back's side of a check-in (placed with the menu's dialer)."""

    # -- placing the call (an outbox event) ------------------------------------------------------

    async def place_checkin_call(self, event: Event) -> None:
        """The check-in's timer: call (the first or the second time), or escalate after the second.

        The call is placed before anything is written: when Twilio is down the event is tried again
        as it was (``Retry``), :data:`PLACE_TRIES` times, then the call counts as missed. Once placed, the check-in moves on to the call's stage, with a timer
        for the next step in case Twilio never reports on the call.
        """
        payload = due_payload(event.payload)
        crypto = self.store.crypto
        async with self.transaction() as session:
            checkin = await checkins.due(session, payload)
            if checkin is None:  # answered, cancelled or moved since the timer was written
                return
            attempt = ATTEMPT_AT.get(checkin.stage, 0)
            number = crypto.decrypt(checkin.callee_enc) if checkin.callee_enc else None
            if attempt == 0 or number is None:  # the second call went unreported: escalate now
                await self._escalate(session, checkin, self.now())
                return
        state = CallState(checkin=payload["checkin_id"], attempt=attempt)
        assert self.dialer is not None, "the phone line gives its flow a dialer"
        try:
            call_ref: str | None = crypto.ref_hash(CALL_REF_CHANNEL, await self.dialer.call(number, state))
        except CallRefused as exc:
            log.warning("check-in call-back refused by Twilio, counted as missed: %s", exc)
            call_ref = None
        except Retry as exc:
            if event.attempts + 1 < PLACE_TRIES:
                raise
            # Twilio down or out of reach: a call that cannot be placed is a missed call, so that an
            # outage ends in a page to the staff rather than in a check-in nobody looks at.
            log.warning(
                "check-in call-back not placed after %d tries, counted as missed: %s", PLACE_TRIES, exc
            )
            call_ref = None
        now = self.now()
        async with self.transaction() as session:
            checkin = await checkins.due(session, payload)
            if checkin is None:  # ended while the call was being placed: its pick-up says nothing
                return
            await checkins.advance(
                session, crypto, checkin, stage=STAGE_OF_ATTEMPT[attempt], now=now,
                next_at=now + self._retry_after, kind=PHONE_CHECKIN,
            )  # fmt: skip
            checkin.call_ref = call_ref
            if call_ref is None:
                await self._next_step(session, checkin, attempt, now)

    # -- the call, once picked up ----------------------------------------------------------------

    async def checkin_picked_up(self, caller: Caller, state: CallState) -> VoiceResponse:
        """The person (or a voicemail) picked up: ask."""
        async with self.transaction() as session:
            current = await self._current(session, caller, state) is not None
        if not current:  # the check-in ended or moved on meanwhile: nothing to ask
            response = VoiceResponse()
            response.hangup()
            return response
        return self._ask(replace(state, tries=0), await self.locale(caller))

    async def checkin_answer(self, caller: Caller, state: CallState, digits: str) -> VoiceResponse:
        """One: safe, the check-in ends. Two or nine: the emergency. Else ask once more, then missed."""
        locale = await self.locale(caller)
        now = self.now()
        if digits in HELP:
            # The engine's emergency ends the running check-in in its escalation, as "Cần giúp" does
            # in a chat; a person asking for help is helped even if the check-in is already over.
            return await self.emergency(caller, CallState())
        async with self.transaction() as session:
            checkin = await self._current(session, caller, state)
            if checkin is not None and digits == SAFE:
                await checkins.answer(session, checkin, now=now)
        response = VoiceResponse()
        if digits == SAFE or checkin is None:
            self.speaker.prompt(response, "checkin_safe" if digits == SAFE else "end", locale)
            response.hangup()
            return response
        if state.tries < 1:
            reason = "wrong_key" if digits else "silence"
            return self._ask(replace(state, tries=state.tries + 1), locale, reason)
        await self._missed(caller, state)
        last = state.attempt >= LAST_ATTEMPT
        self.speaker.prompt(response, "checkin_missed_last" if last else "checkin_missed", locale)
        response.hangup()
        return response

    async def checkin_status(self, caller: Caller, state: CallState, status: str) -> None:
        """Twilio's report on a call-back: any end without a key pressed is a missed call."""
        if status in FINAL_STATUSES:
            await self._missed(caller, state)

    # -- helpers ---------------------------------------------------------------------------------

    @property
    def _retry_after(self) -> timedelta:
        """How long after a missed call the next one is made (as a chat check-in's reminder)."""
        return timedelta(minutes=self.settings.checkin_remind_minutes)

    def _ask(self, state: CallState, locale: str, before: str | None = None) -> VoiceResponse:
        action = self.urls.url(CHECKIN_ANSWER, state)
        response = VoiceResponse()
        gather = self.speaker.gather(response, action, locale, speech=False)
        if before is not None:
            self.speaker.prompt(gather, before, locale)
        self.speaker.prompt(gather, "checkin_ask", locale)
        response.redirect(action, method="POST")
        return response

    async def _current(self, session: AsyncSession, caller: Caller, state: CallState) -> Checkin | None:
        """The check-in this call is about, locked, if the call is still the one it waits for."""
        ref = self.store.crypto.ref_hash(CALL_REF_CHANNEL, caller.call_sid)
        checkin = await _locked(session, state.checkin)
        if checkin is None or checkin.stage != STAGE_OF_ATTEMPT.get(state.attempt):
            return None
        return checkin if checkin.call_ref == ref else None

    async def _missed(self, caller: Caller, state: CallState) -> None:
        """A call went unanswered (a status, or no key asked twice): after the second, escalate now.

        Counted once per call: the first report clears ``call_ref``, and later ones find nothing. A
        missed first call needs nothing more: the second call's timer was written with it.
        """
        now = self.now()
        async with self.transaction() as session:
            checkin = await self._current(session, caller, state)
            if checkin is None:
                return
            checkin.call_ref = None
            await self._next_step(session, checkin, state.attempt, now)
        self.door.wake()

    async def _escalate(self, session: AsyncSession, checkin: Checkin, now: datetime) -> None:
        """Page the staff for a check-in nobody answered (an ``emergency``, a missed check-in)."""
        gap = timedelta(minutes=self.settings.session_gap_minutes)
        escalation = await missed_checkin(session, self.store.crypto, checkin, now=now, gap=gap)
        if escalation is not None:
            log.info("phone check-in #%d not answered: escalation #%d", checkin.id, escalation.id)

    async def _next_step(self, session: AsyncSession, checkin: Checkin, attempt: int, now: datetime) -> None:
        """After a missed call: the second call waits for its timer; a missed second is escalated now."""
        if attempt >= LAST_ATTEMPT:
            await self._escalate(session, checkin, now)


async def _locked(session: AsyncSession, checkin_id: int) -> Checkin | None:
    query = select(Checkin).where(Checkin.id == checkin_id, Checkin.channel == CHANNEL)
    return (await session.execute(for_update(session, query))).scalar_one_or_none()
