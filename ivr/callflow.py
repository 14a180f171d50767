"""One call through the engine: Twilio's requests in, TwiML out.

The phone line is a thin adapter. Every key that picks a choice becomes an engine message (the call's
id is its session, the caller's number its user id, which the engine hashes at once); what the engine
answers is spoken. Only the phone's own keys are handled here: ``*`` repeats, ``9`` and ``0`` reach a
counsellor (:mod:`ivr.ringing`), "more" turns a long menu's page; a silence or a wrong key gets one
more try, then a gentle goodbye. The check-in choice is the phone line's own too: a call-back
(:mod:`ivr.checkin_menu`, :mod:`ivr.checkin_call`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import replace

from twilio.twiml.voice_response import VoiceResponse

from bot.errors import BadInput
from bot.messages import Outcome, Reply
from ivr import calls
from ivr.callbase import COUNSELLOR_NODE, EMERGENCY_NODE, menu_reply
from ivr.checkin_call import CheckinCall
from ivr.keys import COUNSELLOR, DANGER, REPEAT, menu_page
from ivr.render import goodbye, twiml
from ivr.ringing import EMERGENCY
from ivr.state import Caller, CallState
from ivr.urls import KEY

log = logging.getLogger(__name__)

POSSIBLE = "possible"  # the call state while asking "are you in danger right now?"
INFORMATION = "1"  # the key for "no, I want information"


class CallFlow(CheckinCall):
    """The phone line's half of every call; one instance per process, no state of its own."""

    async def incoming(self, caller: Caller) -> str:
        """A new call: the welcome, as TwiML.

        A greeting costs one small write (the call's contact row, :mod:`ivr.answered`) and no engine turn:
        the welcome is the same for every new call in a language (it depends on nothing else), so once
        the engine has said it in this process, it is said from here, rendered once per language and
        opening hours. The engine's turn for it comes with the caller's first key (:meth:`_greeted`).
        """
        now = self.now()
        locale = await self.answered.answer(caller, now)
        open_now = self.hours.is_open(now)
        learning = self._learning.get(locale)
        if learning is not None:  # calls that come together at the start wait for the first one's welcome
            await asyncio.shield(learning)
        said = self._greetings.get((locale, open_now))
        if said is not None:
            return said
        learning = self._learning[locale] = asyncio.get_running_loop().create_future()
        try:
            outcome = await self._greeted(caller)
            response = await self._after(caller, CallState(shown=0, next=1), outcome, open_now=open_now)
            said = twiml(response)
            if not outcome.duplicate and not outcome.emergency and outcome.locale == locale:
                self._welcome[locale] = outcome.replies
                self._greetings[(locale, open_now)] = said
        finally:
            del self._learning[locale]
            learning.set_result(None)
        return said

    async def _greeted(self, caller: Caller) -> Outcome:
        """The engine's welcome (turn 0): sent now when the call was greeted from here, else replayed.

        When it is sent now, the engine's contact row takes over the one the greeting wrote, and what the
        engine said is checked against the greeting learned from it (content changed: learned again).
        """
        outcome = await self.send(caller, 0, kind="start")
        if outcome.duplicate:
            return outcome
        async with self.transaction() as session:
            await calls.call_contact(session, self.store.crypto, caller, self.now())
        locale = outcome.locale or self.settings.default_locale
        if self._welcome.get(locale, outcome.replies) != outcome.replies:
            log.warning(
                "phone: the engine's welcome in %s changed; the greeting will be learned again", locale
            )
            del self._welcome[locale]
            for key in [key for key in self._greetings if key[0] == locale]:
                del self._greetings[key]
        return outcome

    async def key(self, caller: Caller, state: CallState, digits: str, speech: str) -> VoiceResponse:
        """A key pressed on a menu (or words said, or silence).

        Words are read only when the ``<Gather>`` asked for speech (``state.speech``): a ``SpeechResult``
        posted to a keys-only menu (a replayed or forged request) is not the caller's words.
        """
        # The greeting is on the line: the engine's turn for it first, if the greeting left it for now.
        greeted = await self._greeted(caller) if state.next == 1 else None
        listened, state = bool(state.speech), replace(state, speech=0)
        if listened and speech.strip():
            text = speech.strip()[: self.settings.max_text_chars]
            return await self._spoken(caller, state, text)
        if digits == DANGER:
            return await self.emergency(caller, state)
        if digits == COUNSELLOR:
            return await self.counsellor(caller, replace(state, kind=""), self.counsellor_choice)
        if state.kind == POSSIBLE:
            return await self._possible_key(caller, state, digits)
        if greeted is not None and state.shown == 0:
            replies, locale = greeted.replies, greeted.locale or self.settings.default_locale
        else:
            replies, locale = await self.shown(caller, state.shown)
        if not digits:
            return await self._retry(caller, state, "silence", replies, locale)
        if digits == REPEAT:
            return self.menu(replace(state, tries=0), replies, locale, answers=state.page == 0)
        menu = menu_reply(replies)
        if menu is None:
            return await self._retry(caller, state, "wrong_key")
        page = menu_page(menu.choices, self.fixed, state.page)
        if digits == page.more_key:
            return self.menu(replace(state, page=page.page + 1, tries=0), replies, locale, answers=False)
        choice = page.choice_for(digits)
        if choice is None:
            return await self._retry(caller, state, "wrong_key", replies, locale)
        if self.gotos.get(choice.id) == COUNSELLOR_NODE:
            return await self.counsellor(caller, state, choice.id)
        if self.is_checkin_entry(choice.id):
            return await self.checkin_offer(caller, state)
        return await self._turn(caller, state, kind="choice", choice=choice.id)

    async def status(self, caller: Caller, status: str, duration: int | None, *, direction: str) -> None:
        """Twilio's status callback: the call's state and, at the end, its duration.

        Only calls this service answered count: a callback for one it never saw (an outbound page call, a
        call another app answered, when the callback is set on the whole account) is not a caller who
        gave up, so it writes nothing.
        """
        if status not in calls.CALL_STATUSES:
            return
        if direction.startswith("outbound"):
            log.info("phone: status callback of an outbound call ignored")
            return
        async with self.transaction() as session:
            if not await calls.answered(session, self.store.crypto, caller):
                log.info("phone: status callback of a call this service never answered ignored")
                return
            contact = await calls.call_contact(
                session, self.store.crypto, caller, self.now(), duration_seconds=duration or 0
            )
            calls.apply_status(contact, status, duration)

    async def _turn(self, caller: Caller, state: CallState, **message: str) -> VoiceResponse:
        """Send one message to the engine and answer with what it says."""
        try:
            outcome = await self.send(caller, state.next, **message)
        except BadInput:  # a choice that no longer exists (the content changed during the call)
            return await self._retry(caller, state, "wrong_key")
        state = state.turn_taken() if outcome.replies else state.turn_skipped()
        return await self._after(caller, state, outcome)

    async def _spoken(self, caller: Caller, state: CallState, text: str) -> VoiceResponse:
        """Words said: the engine's answer; a possible danger is asked about by key before it is read."""
        try:
            outcome = await self.send(caller, state.next, kind="text", text=text)
        except BadInput:
            return await self._retry(caller, state, "wrong_key")
        state = state.turn_taken() if outcome.replies else state.turn_skipped()
        if not outcome.emergency and outcome.replies and await self._danger_level(text) == POSSIBLE:
            return await self._ask_danger(caller, replace(state, kind=POSSIBLE))
        return await self._after(caller, state, outcome)

    async def _danger_level(self, text: str) -> str:
        """The safety check's level for words said: "emergency", "possible" or "none".

        The same check the engine ran on the message; the engine decides what to answer, the phone line
        only how to ask. A verdict without a ``level`` (before the three levels) has two of them.
        """
        return await self.door.danger_level(text)

    async def _ask_danger(
        self, caller: Caller, state: CallState, before: Sequence[str] = ()
    ) -> VoiceResponse:
        """Maybe a danger: "press nine if you are in danger right now, press one for information"."""
        locale = await self.locale(caller)
        action = self.urls.url(KEY, state)
        response = VoiceResponse()
        gather = self.speaker.gather(response, action, locale, speech=False)
        for prompt in before:
            self.speaker.prompt(gather, prompt, locale)
        self.speaker.prompt(gather, "possible_danger", locale)
        response.redirect(action, method="POST")
        return response

    async def _possible_key(self, caller: Caller, state: CallState, digits: str) -> VoiceResponse:
        """The answer to "are you in danger right now?" (key nine was taken before): one is information.

        A silence or a wrong key asks once more; then the information is read, as the caller can still
        press nine at any moment of it.
        """
        if digits != INFORMATION and state.tries < 1:
            reason = "wrong_key" if digits else "silence"
            return await self._ask_danger(caller, replace(state, tries=state.tries + 1), (reason,))
        state = replace(state, kind="", tries=0)
        replies = await self.replay(caller, state.shown)
        menu = menu_reply(replies)
        if menu is not None and len(menu.choices) == 2:
            # The engine may ask the same question itself (yes: the emergency, no: the information):
            # the caller has answered it already, so take its "no" rather than ask twice.
            answers = [c for c in menu.choices if self.leads_to.get(c.id) != EMERGENCY_NODE]
            if len(answers) == 1:
                return await self._turn(caller, state, kind="choice", choice=answers[0].id)
        return self.menu(state, replies, await self.locale(caller), answers=True)

    async def _after(
        self, caller: Caller, state: CallState, outcome: Outcome, *, open_now: bool | None = None
    ) -> VoiceResponse:
        if outcome.emergency:
            # What fits this danger (first aid, 111...) is said before ringing; the menu that goes with
            # it (a counsellor is being called) is what the ringing says in its own words.
            said = [reply for reply in outcome.replies if not reply.choices]
            return await self.start_ringing(caller, state, EMERGENCY, said)
        if not outcome.replies:  # nothing said (a message passed on to a counsellor): same menu again
            replies, locale = await self.shown(caller, state.shown)
            return self.menu(state, replies, locale, answers=False)
        locale = outcome.locale or self.settings.default_locale  # (None: the conversation was deleted)
        return self.menu(state, outcome.replies, locale, answers=True, open_now=open_now)

    async def _retry(
        self,
        caller: Caller,
        state: CallState,
        reason: str,
        replies: Sequence[Reply] | None = None,
        locale: str | None = None,
    ) -> VoiceResponse:
        """Silence or a wrong key: once more with the menu, then a gentle goodbye."""
        locale = locale or await self.locale(caller)
        if state.tries >= 1:
            return goodbye(self.speaker, locale)
        if replies is None:
            replies = await self.replay(caller, state.shown)
        return self.menu(
            replace(state, tries=state.tries + 1), replies, locale, answers=False, before=(reason,)
        )
