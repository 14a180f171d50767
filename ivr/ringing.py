"""Reaching a counsellor by phone: ring the people on call one after the other, or offer a call-back.

Key 9 (or a danger the engine hears) rings at once, at any hour; key 0 rings in office hours and
offers a call-back outside them. Counsellors see the hotline's number, never the caller's. When nobody
answers, the caller hears the emergency numbers and may leave a call-back request; the staff are paged
through the outbox in every case.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError
from twilio.twiml.voice_response import VoiceResponse

from bot.errors import BadInput
from bot.messages import Reply
from bot.store.models import ScreenedCall
from ivr import calls, escalate
from ivr.callbase import CallBase, log
from ivr.keys import DANGER, REPEAT
from ivr.oncall import oncall_numbers
from ivr.render import goodbye, speak_replies
from ivr.spoken import clock_words
from ivr.state import Caller, CallState
from ivr.urls import DIAL, OFFER, SCREEN, SCREEN_KEY

EMERGENCY = "emergency"
COUNSELLOR = "counsellor"
AFTER_HOURS = "after_hours"
CALLBACK_KEYS = ("1", "0")
BACK = "#"
ANSWERED_STATUSES = ("completed", "answered")
UNANSWERED_STATUSES = ("no-answer", "busy", "failed")
SCREEN_CHANNEL = "phone-screen"  # counsellor calls accepted with key 1 (keyed hashes of their call ids,
# in the phone line's own table phone_screens)


def back_to_menu(state: CallState) -> CallState:
    """From ringing or an offer back to the menu that was on the line."""
    return replace(state, kind="", ring=0, since=0, page=0, tries=0)


class Ringing(CallBase):
    """The counsellor part of a call."""

    async def dial_ended(
        self, caller: Caller, state: CallState, status: str, duration: int, dial_sid: str = ""
    ) -> VoiceResponse:
        """A counsellor's phone stopped ringing, or the conversation with the counsellor ended.

        With screening on, "answered" counts only when the counsellor pressed 1 on that call: a
        voicemail or a declined call is a "no-answer", and the next counsellor is rung.
        """
        now = self.now()
        crypto = self.store.crypto
        screened = status in ANSWERED_STATUSES and self.settings.dial_screening
        if screened and not await self._accepted(dial_sid):
            status = "no-answer"
        if status in ANSWERED_STATUSES:
            answered_at = now - timedelta(seconds=duration)
            asked_at = datetime.fromtimestamp(state.since, now.tzinfo)
            waited = int((answered_at - asked_at).total_seconds()) if state.since else None
            async with self.transaction() as session:
                contact = await calls.call_contact(session, crypto, caller, now)
                calls.apply_dial(contact, calls.ANSWERED, waited)
                conversation = await calls.conversation_of(session, crypto, caller)
                await escalate.counsellor_answered(
                    session, conversation=conversation, contact=contact, answered_at=answered_at
                )
            return goodbye(self.speaker, await self.locale(caller), "after_counsellor")
        if status not in UNANSWERED_STATUSES:  # "canceled": the caller hung up while it rang
            return VoiceResponse()
        async with self.transaction() as session:
            contact = await calls.call_contact(session, crypto, caller, now)
            calls.apply_dial(contact, status)
        return await self._ring(caller, replace(state, ring=state.ring + 1), await self.locale(caller))

    def screen(self, state: CallState) -> VoiceResponse:
        """Said to the counsellor who picks up, before the caller is connected: press 1 to take it."""
        locale = self.settings.staff_locale
        response = VoiceResponse()
        gather = self.speaker.gather(response, self.urls.url(SCREEN_KEY, state), locale, speech=False)
        self.speaker.prompt(gather, "screen", locale)
        self.speaker.prompt(response, "screen_missed", locale)
        response.hangup()
        return response

    async def screen_key(self, dial_sid: str, digits: str) -> VoiceResponse:
        """The counsellor's key: 1 connects them (and is remembered); anything else hangs their phone up."""
        response = VoiceResponse()
        if digits != "1":
            response.hangup()
            return response
        key = self.store.crypto.ref_hash(SCREEN_CHANNEL, dial_sid)
        async with self.transaction() as session:
            if await session.get(ScreenedCall, key) is None:  # a key pressed twice is remembered once
                try:
                    async with session.begin_nested():
                        session.add(ScreenedCall(ref_hash=key, created_at=self.now()))
                except IntegrityError:
                    pass  # the same press, sent again by Twilio at this very moment
        return response  # an empty answer: Twilio connects the two calls

    async def _accepted(self, dial_sid: str) -> bool:
        if not dial_sid:
            return False
        key = self.store.crypto.ref_hash(SCREEN_CHANNEL, dial_sid)
        async with self.store.sessionmaker() as session:
            return await session.get(ScreenedCall, key) is not None

    async def offer_key(self, caller: Caller, state: CallState, digits: str) -> VoiceResponse:
        """A key pressed on the call-back offer (after nobody answered, or outside office hours)."""
        locale = await self.locale(caller)
        if digits in CALLBACK_KEYS and caller.number is not None:
            return await self._callback(caller, locale)
        if digits == REPEAT:
            return self._offer(caller, replace(state, tries=0), locale)
        if digits == DANGER:
            return await self.emergency(caller, back_to_menu(state))
        if digits == BACK:
            replies = await self.replay(caller, state.shown)
            return self.menu(back_to_menu(state), replies, locale, answers=False)
        if state.tries >= 1:
            return goodbye(self.speaker, locale)
        reason = "wrong_key" if digits else "silence"
        return self._offer(caller, replace(state, tries=state.tries + 1), locale, before=(reason,))

    async def emergency(self, caller: Caller, state: CallState) -> VoiceResponse:
        """Key 9: the engine's emergency (an escalation and its page), then ring at once."""
        try:
            outcome = await self.send(caller, state.next, kind="choice", choice=self.emergency_choice)
        except BadInput:
            log.exception("the emergency choice was refused; ringing the counsellors anyway")
            return await self.start_ringing(caller, state.turn_skipped(), EMERGENCY)
        state = state.turn_taken() if outcome.replies else state.turn_skipped()
        return await self.start_ringing(caller, state, EMERGENCY)

    async def counsellor(self, caller: Caller, state: CallState, choice_id: str) -> VoiceResponse:
        """Key 0 (or a "talk to a counsellor" choice): ring them, or offer a call-back after hours."""
        if not self.hours.is_open(self.now()):
            locale = await self.locale(caller)
            return self._offer(caller, replace(state, kind=AFTER_HOURS, tries=0), locale)
        outcome = await self.send(caller, state.next, kind="choice", choice=choice_id)
        state = state.turn_taken() if outcome.replies else state.turn_skipped()
        return await self.start_ringing(caller, state, EMERGENCY if outcome.emergency else COUNSELLOR)

    async def start_ringing(
        self, caller: Caller, state: CallState, kind: str, before: Sequence[Reply] = ()
    ) -> VoiceResponse:
        """Ring the counsellors at once; ``before``: the engine's replies to say first (what to do now)."""
        since = int(self.now().timestamp())
        state = replace(state, kind=kind, ring=0, since=since, page=0, tries=0)
        return await self._ring(caller, state, await self.locale(caller), before)

    async def _ring(
        self, caller: Caller, state: CallState, locale: str, before: Sequence[Reply] = ()
    ) -> VoiceResponse:
        """Ring the ``state.ring``-th number on call, or tell the caller that nobody answered."""
        settings = self.settings
        numbers = await oncall_numbers(self.store, self.settings)
        caller_id = settings.twilio_caller_id or caller.hotline  # never the caller's own number
        if state.ring >= len(numbers) or caller_id is None:
            return await self._nobody(caller, state, locale, before)
        response = VoiceResponse()
        speak_replies(self.speaker, response, before, locale, self.articles_by_voice)
        if state.ring > 0:
            self.speaker.prompt(response, "connecting_next", locale)
        else:
            connecting = "connecting_emergency" if state.kind == EMERGENCY else "connecting_counsellor"
            self.speaker.prompt(response, connecting, locale)
        dial = response.dial(
            action=self.urls.url(DIAL, state),
            method="POST",
            timeout=settings.dial_timeout_seconds,
            caller_id=caller_id,
            answer_on_bridge=True,  # the caller hears ringing until the counsellor has pressed 1
        )
        target = numbers[state.ring]
        screen = {"url": self.urls.url(SCREEN, state), "method": "POST"} if settings.dial_screening else {}
        if target.lower().startswith("sip:"):
            dial.sip(target, **screen)
        else:
            dial.number(target, **screen)
        return response

    async def _nobody(
        self, caller: Caller, state: CallState, locale: str, before: Sequence[Reply] = ()
    ) -> VoiceResponse:
        """Nobody answered: the statistics say so, the staff are paged again, a call-back is offered."""
        crypto = self.store.crypto
        now = self.now()
        async with self.transaction() as session:
            contact = await calls.call_contact(session, crypto, caller, now)
            calls.apply_dial(contact, calls.NOBODY)
            conversation = await calls.conversation_of(session, crypto, caller)
            if state.kind == EMERGENCY and state.ring > 0 and conversation is not None:
                await escalate.page_again_for_emergency(
                    session, crypto, conversation=conversation, contact=contact, now=now
                )
        if state.kind == EMERGENCY and not before:
            # Minutes may have passed ringing: what fits this danger (111 for someone held...) again.
            replies = await self.replay(caller, state.shown)
            before = [reply for reply in replies if reply.voice_text in self.kind_voices]
        return self._offer(caller, replace(state, tries=0), locale, said=before)

    def _offer(
        self,
        caller: Caller,
        state: CallState,
        locale: str,
        before: Sequence[str] = (),
        said: Sequence[Reply] = (),
    ) -> VoiceResponse:
        """What to do now that no counsellor takes the call: the numbers, and a call-back."""
        speaker = self.speaker
        action = self.urls.url(OFFER, state)
        response = VoiceResponse()
        gather = speaker.gather(response, action, locale, speech=False)
        speak_replies(speaker, gather, said, locale, self.articles_by_voice)
        for prompt in before:
            speaker.prompt(gather, prompt, locale)
        if state.kind == EMERGENCY:
            numbers = speaker.prompts.numbers_spoken(locale)
            speaker.prompt(gather, "nobody_emergency", locale, numbers=numbers)
        elif state.kind == AFTER_HOURS:
            opens, closes = (clock_words(t, locale) for t in self.hours.spoken())
            speaker.prompt(gather, "after_hours", locale, opens=opens, closes=closes)
        else:
            speaker.prompt(gather, "nobody_counsellor", locale)
        speaker.prompt(gather, "callback_offer" if caller.number else "callback_unavailable", locale)
        speaker.prompt(gather, "offer_footer", locale)
        response.redirect(action, method="POST")
        return response

    async def _callback(self, caller: Caller, locale: str) -> VoiceResponse:
        """Record the call-back request (the number encrypted) with its page to the staff."""
        assert caller.number is not None
        crypto = self.store.crypto
        now = self.now()
        async with self.transaction() as session:
            contact = await calls.call_contact(session, crypto, caller, now)
            conversation = await calls.conversation_of(session, crypto, caller)
            await escalate.request_callback(
                session, crypto, conversation=conversation, contact=contact, number=caller.number, now=now
            )
        return goodbye(self.speaker, locale, "callback_done")
