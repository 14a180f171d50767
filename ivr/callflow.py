"""One call through the engine: Twilio's requests in, TwiML out.

The phone line is a thin adapter. Every key that picks a choice becomes an engine message (the call's
id is its session, the caller's number its user id, which the engine hashes at once); what the engine
answers is spoken. The few things only the phone has are handled here:

* ``*`` repeats: the message on the line is sent again with the same transport id, and the engine's
  de-duplication gives back the very same replies, without counting anything twice. Reading which key
  was pressed works the same way, so no menu has to be kept between requests;
* ``9`` (or a danger the engine hears in speech) rings the on-call counsellors one after the other;
  ``0`` rings them too, or offers a call-back outside office hours; when nobody answers: the emergency
  numbers and a call-back offer;
* silence or a wrong key: one more try, then a gentle goodbye.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession
from twilio.twiml.voice_response import VoiceResponse

from bot.content.fields import LOCALES
from bot.content.flows import Flows
from bot.engine.messages import InboundMessage, Outcome, Reply
from bot.errors import BadInput, ConfigError
from ivr import calls, escalate
from ivr.hours import OfficeHours
from ivr.keys import COUNSELLOR, DANGER, REPEAT, fixed_keys, menu_page
from ivr.oncall import oncall_numbers
from ivr.render import Speaker, goodbye, speak_keys, speak_replies
from ivr.spoken import clock_words
from ivr.state import Caller, CallState
from ivr.urls import DIAL, KEY, OFFER, Urls

if TYPE_CHECKING:
    from bot.runtime import Services

log = logging.getLogger(__name__)

EMERGENCY_NODE = "emergency.start"
COUNSELLOR_NODE = "counsellor.request"
EMERGENCY = "emergency"
AFTER_HOURS = "after_hours"
CALLBACK_KEYS = ("1", "0")
BACK = "#"
ANSWERED_STATUSES = ("completed", "answered")
UNANSWERED_STATUSES = ("no-answer", "busy", "failed")


def _choice_to(flows: Flows, goto: str, key: str) -> str:
    """The id of a flow choice leading to ``goto``, preferring one with the phone key ``key``."""
    found = [
        (c.key != key, node.choice_id(c))
        for node in flows.nodes.values()
        for c in node.choices
        if c.goto == goto
    ]
    if not found:
        raise ConfigError(f"The phone line needs a choice in flows/ that leads to `{goto}` (key {key}).")
    return min(found)[1]


class CallFlow:
    """The phone line's half of every call; one instance per process, no state of its own."""

    def __init__(self, services: Services, speaker: Speaker, hours: OfficeHours, urls: Urls) -> None:
        self.services = services
        self.speaker = speaker
        self.hours = hours
        self.urls = urls
        flows = services.content.flows
        self.fixed = fixed_keys(flows)
        self.gotos = {node.choice_id(c): c.goto for node in flows.nodes.values() for c in node.choices}
        self.emergency_choice = _choice_to(flows, EMERGENCY_NODE, DANGER)
        self.counsellor_choice = _choice_to(flows, COUNSELLOR_NODE, COUNSELLOR)
        self.articles_by_voice = {
            article.voice.get(locale): article.id
            for article in services.content.knowledge.articles.values()
            for locale in LOCALES
        }

    # -- requests ------------------------------------------------------------------------------

    async def incoming(self, caller: Caller) -> VoiceResponse:
        """A new call: the engine's welcome, and the call linked to its statistics row."""
        outcome = await self._send(caller, 0, kind="start")
        async with self._transaction() as session:
            await calls.call_contact(session, self.services.crypto, caller, self._now())
        return await self._after(caller, CallState(shown=0, next=1), outcome)

    async def key(self, caller: Caller, state: CallState, digits: str, speech: str) -> VoiceResponse:
        """A key pressed on a menu (or words said, or silence)."""
        if speech.strip():
            text = speech.strip()[: self.services.settings.max_text_chars]
            return await self._turn(caller, state, kind="text", text=text)
        if not digits:
            return await self._retry(caller, state, "silence")
        if digits == DANGER:
            return await self._emergency(caller, state)
        if digits == COUNSELLOR:
            return await self._counsellor(caller, state, self.counsellor_choice)
        replies = await self._replay(caller, state.shown)
        locale = await self._locale(caller)
        if digits == REPEAT:
            return self._menu(replace(state, tries=0), replies, locale, answers=state.page == 0)
        menu = _menu_reply(replies)
        if menu is None:
            return await self._retry(caller, state, "wrong_key")
        page = menu_page(menu.choices, self.fixed, state.page)
        if digits == page.more_key:
            return self._menu(replace(state, page=page.page + 1, tries=0), replies, locale, answers=False)
        choice = page.choice_for(digits)
        if choice is None:
            return await self._retry(caller, state, "wrong_key", replies, locale)
        if self.gotos.get(choice.id) == COUNSELLOR_NODE:
            return await self._counsellor(caller, state, choice.id)
        return await self._turn(caller, state, kind="choice", choice=choice.id)

    async def dial_ended(self, caller: Caller, state: CallState, status: str, duration: int) -> VoiceResponse:
        """A counsellor's phone stopped ringing, or the conversation with the counsellor ended."""
        now = self._now()
        crypto = self.services.crypto
        if status in ANSWERED_STATUSES:
            answered_at = now - timedelta(seconds=duration)
            waited = int((answered_at - datetime.fromtimestamp(state.since, now.tzinfo)).total_seconds())
            async with self._transaction() as session:
                contact = await calls.call_contact(session, crypto, caller, now)
                calls.apply_dial(contact, calls.ANSWERED, waited if state.since else None)
                conversation = await calls.conversation_of(session, crypto, caller)
                await escalate.counsellor_answered(
                    session, conversation=conversation, contact=contact, answered_at=answered_at
                )
            return goodbye(self.speaker, await self._locale(caller), "after_counsellor")
        if status not in UNANSWERED_STATUSES:  # "canceled": the caller hung up while it rang
            return VoiceResponse()
        async with self._transaction() as session:
            contact = await calls.call_contact(session, crypto, caller, now)
            calls.apply_dial(contact, status)
        return await self._ring(caller, replace(state, ring=state.ring + 1), await self._locale(caller))

    async def offer_key(self, caller: Caller, state: CallState, digits: str) -> VoiceResponse:
        """A key pressed on the call-back offer (after nobody answered, or outside office hours)."""
        locale = await self._locale(caller)
        if digits in CALLBACK_KEYS and caller.number is not None:
            return await self._callback(caller, locale)
        if digits == REPEAT:
            return self._offer(caller, replace(state, tries=0), locale)
        if digits == DANGER:
            return await self._emergency(caller, _menu_state(state))
        if digits == BACK:
            replies = await self._replay(caller, state.shown)
            return self._menu(_menu_state(state), replies, locale, answers=False)
        if state.tries >= 1:
            return goodbye(self.speaker, locale)
        reason = "wrong_key" if digits else "silence"
        return self._offer(caller, replace(state, tries=state.tries + 1), locale, before=(reason,))

    async def status(self, caller: Caller, status: str, duration: int | None) -> None:
        """Twilio's status callback: the call's state and, at the end, its duration."""
        if status not in calls.CALL_STATUSES:
            log.warning("status callback with an unknown CallStatus; ignored")
            return
        async with self._transaction() as session:
            contact = await calls.call_contact(
                session, self.services.crypto, caller, self._now(), duration_seconds=duration or 0
            )
            calls.apply_status(contact, status, duration)

    # -- the menu ------------------------------------------------------------------------------

    async def _turn(self, caller: Caller, state: CallState, **message: str) -> VoiceResponse:
        """Send one message to the engine and answer with what it says."""
        try:
            outcome = await self._send(caller, state.next, **message)
        except BadInput:  # a choice that no longer exists (the content changed during the call)
            return await self._retry(caller, state, "wrong_key")
        return await self._after(caller, state, outcome, sent=True)

    async def _after(
        self, caller: Caller, state: CallState, outcome: Outcome, *, sent: bool = False
    ) -> VoiceResponse:
        if sent:
            state = state.turn_taken() if outcome.replies else state.turn_skipped()
        if outcome.emergency:
            return await self._start_ringing(caller, state, EMERGENCY)
        locale = await self._locale(caller)
        if not outcome.replies:  # nothing said (a message passed on to a counsellor): same menu again
            return self._menu(state, await self._replay(caller, state.shown), locale, answers=False)
        return self._menu(state, outcome.replies, locale, answers=True)

    def _menu(
        self,
        state: CallState,
        replies: Sequence[Reply],
        locale: str,
        *,
        answers: bool,
        before: Sequence[str] = (),
    ) -> VoiceResponse:
        """Speak the replies (or only the menu), the keys and the footer, and wait for a key."""
        speaker = self.speaker
        menu = _menu_reply(replies)
        if menu is None:  # the conversation ended (for example "quick exit"): say it, then goodbye
            response = VoiceResponse()
            speak_replies(speaker, response, replies, locale, self.articles_by_voice)
            speaker.prompt(response, "end", locale)
            response.hangup()
            return response
        page = menu_page(menu.choices, self.fixed, state.page)
        state = replace(state, page=page.page)
        action = self.urls.url(KEY, state)
        response = VoiceResponse()
        gather = speaker.gather(response, action, locale)
        for prompt in before:
            speaker.prompt(gather, prompt, locale)
        speak_replies(speaker, gather, replies if answers else [menu], locale, self.articles_by_voice)
        speak_keys(speaker, gather, page, locale)
        open_now = self.hours.is_open(self._now())
        speaker.prompt(gather, "footer" if open_now else "footer_after_hours", locale)
        response.redirect(action, method="POST")
        return response

    async def _retry(
        self,
        caller: Caller,
        state: CallState,
        reason: str,
        replies: Sequence[Reply] | None = None,
        locale: str | None = None,
    ) -> VoiceResponse:
        """Silence or a wrong key: once more with the menu, then a gentle goodbye."""
        locale = locale or await self._locale(caller)
        if state.tries >= 1:
            return goodbye(self.speaker, locale)
        if replies is None:
            replies = await self._replay(caller, state.shown)
        return self._menu(
            replace(state, tries=state.tries + 1), replies, locale, answers=False, before=(reason,)
        )

    # -- a counsellor --------------------------------------------------------------------------

    async def _emergency(self, caller: Caller, state: CallState) -> VoiceResponse:
        """Key 9: the engine's emergency (an escalation and its page), then ring at once."""
        try:
            outcome = await self._send(caller, state.next, kind="choice", choice=self.emergency_choice)
        except BadInput:
            log.exception("the emergency choice was refused; ringing the counsellors anyway")
            return await self._start_ringing(caller, state.turn_skipped(), EMERGENCY)
        state = state.turn_taken() if outcome.replies else state.turn_skipped()
        return await self._start_ringing(caller, state, EMERGENCY)

    async def _counsellor(self, caller: Caller, state: CallState, choice_id: str) -> VoiceResponse:
        """Key 0 (or a "talk to a counsellor" choice): ring them, or offer a call-back after hours."""
        if not self.hours.is_open(self._now()):
            locale = await self._locale(caller)
            return self._offer(caller, replace(state, kind=AFTER_HOURS, tries=0), locale)
        outcome = await self._send(caller, state.next, kind="choice", choice=choice_id)
        state = state.turn_taken() if outcome.replies else state.turn_skipped()
        return await self._start_ringing(caller, state, EMERGENCY if outcome.emergency else "counsellor")

    async def _start_ringing(self, caller: Caller, state: CallState, kind: str) -> VoiceResponse:
        since = int(self._now().timestamp())
        state = replace(state, kind=kind, ring=0, since=since, page=0, tries=0)
        return await self._ring(caller, state, await self._locale(caller))

    async def _ring(self, caller: Caller, state: CallState, locale: str) -> VoiceResponse:
        """Ring the ``state.ring``-th number on call, or tell the caller that nobody answered."""
        settings = self.services.settings
        numbers = await oncall_numbers(self.services)
        caller_id = settings.twilio_caller_id or caller.hotline  # never the caller's own number
        if state.ring >= len(numbers) or caller_id is None:
            return await self._nobody(caller, state, locale)
        response = VoiceResponse()
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
        )
        target = numbers[state.ring]
        if target.lower().startswith("sip:"):
            dial.sip(target)
        else:
            dial.number(target)
        return response

    async def _nobody(self, caller: Caller, state: CallState, locale: str) -> VoiceResponse:
        """Nobody answered: the statistics say so, the staff are paged again, a call-back is offered."""
        crypto = self.services.crypto
        now = self._now()
        async with self._transaction() as session:
            contact = await calls.call_contact(session, crypto, caller, now)
            calls.apply_dial(contact, calls.NOBODY)
            conversation = await calls.conversation_of(session, crypto, caller)
            if state.kind == EMERGENCY and state.ring > 0 and conversation is not None:
                await escalate.page_again_for_emergency(
                    session, crypto, conversation=conversation, contact=contact, now=now
                )
        return self._offer(caller, replace(state, tries=0), locale)

    def _offer(
        self, caller: Caller, state: CallState, locale: str, before: Sequence[str] = ()
    ) -> VoiceResponse:
        """What to do now that no counsellor takes the call: the numbers, and a call-back."""
        speaker = self.speaker
        action = self.urls.url(OFFER, state)
        response = VoiceResponse()
        gather = speaker.gather(response, action, locale, speech=False)
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
        crypto = self.services.crypto
        now = self._now()
        async with self._transaction() as session:
            contact = await calls.call_contact(session, crypto, caller, now)
            conversation = await calls.conversation_of(session, crypto, caller)
            await escalate.request_callback(
                session, crypto, conversation=conversation, contact=contact, number=caller.number, now=now
            )
        return goodbye(self.speaker, locale, "callback_done")

    # -- the engine ----------------------------------------------------------------------------

    async def _send(self, caller: Caller, turn: int, **message: str) -> Outcome:
        return await self.services.engine.handle(
            InboundMessage(
                calls.CHANNEL,
                caller.user_id,
                transport_id=caller.transport_id(turn),
                session_id=caller.call_sid,
                **message,
            )
        )

    async def _replay(self, caller: Caller, turn: int) -> tuple[Reply, ...]:
        """The replies of a turn already on the line (the engine answers a repeated id the same)."""
        outcome = await self._send(caller, turn, kind="start")
        if not outcome.duplicate:
            log.warning("replaying turn %d of a call found no earlier answer; it started anew", turn)
        return outcome.replies

    async def _locale(self, caller: Caller) -> str:
        async with self.services.sessionmaker() as session:
            conversation = await calls.conversation_of(session, self.services.crypto, caller)
        return conversation.locale if conversation is not None else self.services.settings.default_locale

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[AsyncSession]:
        async with self.services.sessionmaker() as session, session.begin():
            yield session

    def _now(self) -> datetime:
        return self.services.clock.now()


def _menu_reply(replies: Sequence[Reply]) -> Reply | None:
    """The reply that offers choices (the last one), or None when the conversation ended."""
    return replies[-1] if replies and replies[-1].choices else None


def _menu_state(state: CallState) -> CallState:
    """Back from ringing or an offer to the menu that was on the line."""
    return replace(state, kind="", ring=0, since=0, page=0, tries=0)
