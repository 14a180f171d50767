"""Setting a safety check-in by keys: thirty minutes, one hour or two hours, then a call-back.

The menu's check-in choice (one that leads into the ``checkin`` flow, "Hẹn giờ an toàn") is taken by
the phone line, as "talk to a counsellor" is: on the phone a check-in is a call placed at the time
(:mod:`ivr.checkin_call`), not a chat message. The caller hears the clock time of the call-back in the
hotline's time zone (``HOTLINE_TIMEZONE``). Their number is kept encrypted on the check-in only, and
wiped when it ends (:func:`bot.store.checkins.end`). A withheld number cannot be called back, nor can
anyone while ``HOTLINE_TWILIO_ACCOUNT_SID`` or ``HOTLINE_TWILIO_CALLER_ID`` is missing: the caller is
told so and hears the menu again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import timedelta

from twilio.twiml.voice_response import VoiceResponse

from bot.store import checkins
from bot.store.outbox_kinds import PHONE_CHECKIN
from ivr import calls
from ivr.checkin_dialer import CallbackDialer
from ivr.keys import DANGER, REPEAT
from ivr.render import goodbye
from ivr.ringing import BACK, Ringing, back_to_menu
from ivr.spoken import clock_words
from ivr.state import Caller, CallState
from ivr.urls import CHECKIN_SET

CHECKIN = "checkin"  # the call state while the check-in menu is on the line
CHECKIN_FLOW = "checkin"  # the flow whose entry the phone line takes over
DURATIONS = {"1": 30, "2": 60, "3": 120}  # key -> minutes until the call-back


class CheckinMenu(Ringing):
    """The caller's side of setting a check-in; call-backs need a dialer (:meth:`use_dialer`)."""

    dialer: CallbackDialer | None = None

    def use_dialer(self, dialer: CallbackDialer) -> None:
        self.dialer = dialer

    @property
    def can_call_back(self) -> bool:
        """Whether check-in call-backs can be placed (the REST API's settings are there)."""
        return self.dialer is not None and self.dialer.configured

    def is_checkin_entry(self, choice_id: str) -> bool:
        """Whether a menu choice leads into the check-in flow from outside it."""
        goto = self.gotos.get(choice_id, "")
        return goto.split(".", 1)[0] == CHECKIN_FLOW and not choice_id.startswith(f"{CHECKIN_FLOW}.")

    async def checkin_offer(self, caller: Caller, state: CallState) -> VoiceResponse:
        """The check-in choice was pressed: the times to choose from (or why it cannot be done)."""
        locale = await self.locale(caller)
        if caller.number is None or not self.can_call_back:
            replies = await self.replay(caller, state.shown)
            why = "checkin_unavailable" if caller.number is None else "checkin_off"
            return self.menu(back_to_menu(state), replies, locale, answers=False, before=(why,))
        return self._checkin_menu(replace(state, kind=CHECKIN, tries=0), locale)

    async def checkin_key(self, caller: Caller, state: CallState, digits: str) -> VoiceResponse:
        """A key on the check-in menu: a time sets it; star repeats, hash goes back, nine is danger."""
        locale = await self.locale(caller)
        minutes = DURATIONS.get(digits)
        if minutes is not None and caller.number is not None:
            return await self._set(caller, minutes, locale)
        if digits == REPEAT:
            return self._checkin_menu(replace(state, tries=0), locale)
        if digits == DANGER:
            return await self.emergency(caller, back_to_menu(state))
        if digits == BACK or state.tries >= 1:
            replies = await self.replay(caller, state.shown)
            return self.menu(back_to_menu(state), replies, locale, answers=False)
        reason = "wrong_key" if digits else "silence"
        return self._checkin_menu(replace(state, tries=state.tries + 1), locale, (reason,))

    def _checkin_menu(self, state: CallState, locale: str, before: Sequence[str] = ()) -> VoiceResponse:
        action = self.urls.url(CHECKIN_SET, state)
        response = VoiceResponse()
        gather = self.speaker.gather(response, action, locale, speech=False)
        for prompt in before:
            self.speaker.prompt(gather, prompt, locale)
        self.speaker.prompt(gather, "checkin_offer", locale)
        self.speaker.prompt(gather, "offer_footer", locale)
        response.redirect(action, method="POST")
        return response

    async def _set(self, caller: Caller, minutes: int, locale: str) -> VoiceResponse:
        """Set the check-in (the number encrypted, its call written to the outbox) and say when."""
        assert caller.number is not None
        crypto = self.store.crypto
        now = self.now()
        due_at = now + timedelta(minutes=minutes)
        async with self.transaction() as session:
            contact = await calls.call_contact(session, crypto, caller, now)
            conversation = await calls.conversation_of(session, crypto, caller)
            if conversation is None:  # the engine always has one by now; without it, nothing to page for
                return goodbye(self.speaker, locale)
            await checkins.set_checkin(
                session,
                crypto,
                conversation=conversation,
                contact=contact,
                due_at=due_at,
                now=now,
                callee=caller.number,
                kind=PHONE_CHECKIN,
            )
        local = due_at.astimezone(self.hours.zone).strftime("%H:%M")
        response = VoiceResponse()
        self.speaker.prompt(response, "checkin_set", locale, time=clock_words(local, locale))
        response.hangup()
        return response
