"""One call through the engine: Twilio's requests in, TwiML out.

The phone line is a thin adapter. Every key that picks a choice becomes an engine message (the call's
id is its session, the caller's number its user id, which the engine hashes at once); what the engine
answers is spoken. Only the phone's own keys are handled here: ``*`` repeats, ``9`` and ``0`` reach a
counsellor (:mod:`ivr.ringing`), "more" turns a long menu's page; a silence or a wrong key gets one
more try, then a gentle goodbye.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from twilio.twiml.voice_response import VoiceResponse

from bot.engine.messages import Outcome, Reply
from bot.errors import BadInput
from ivr import calls
from ivr.callbase import COUNSELLOR_NODE, menu_reply
from ivr.keys import COUNSELLOR, DANGER, REPEAT, menu_page
from ivr.render import goodbye
from ivr.ringing import EMERGENCY, Ringing
from ivr.state import Caller, CallState


class CallFlow(Ringing):
    """The phone line's half of every call; one instance per process, no state of its own."""

    async def incoming(self, caller: Caller) -> VoiceResponse:
        """A new call: the engine's welcome, and the call linked to its statistics row."""
        outcome = await self.send(caller, 0, kind="start")
        async with self.transaction() as session:
            await calls.call_contact(session, self.services.crypto, caller, self.now())
        return await self._after(caller, CallState(shown=0, next=1), outcome)

    async def key(self, caller: Caller, state: CallState, digits: str, speech: str) -> VoiceResponse:
        """A key pressed on a menu (or words said, or silence)."""
        if speech.strip():
            text = speech.strip()[: self.services.settings.max_text_chars]
            return await self._turn(caller, state, kind="text", text=text)
        if not digits:
            return await self._retry(caller, state, "silence")
        if digits == DANGER:
            return await self.emergency(caller, state)
        if digits == COUNSELLOR:
            return await self.counsellor(caller, state, self.counsellor_choice)
        replies = await self.replay(caller, state.shown)
        locale = await self.locale(caller)
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
        return await self._turn(caller, state, kind="choice", choice=choice.id)

    async def status(self, caller: Caller, status: str, duration: int | None) -> None:
        """Twilio's status callback: the call's state and, at the end, its duration."""
        if status not in calls.CALL_STATUSES:
            return
        async with self.transaction() as session:
            contact = await calls.call_contact(
                session, self.services.crypto, caller, self.now(), duration_seconds=duration or 0
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

    async def _after(self, caller: Caller, state: CallState, outcome: Outcome) -> VoiceResponse:
        if outcome.emergency:
            return await self.start_ringing(caller, state, EMERGENCY)
        locale = await self.locale(caller)
        if not outcome.replies:  # nothing said (a message passed on to a counsellor): same menu again
            return self.menu(state, await self.replay(caller, state.shown), locale, answers=False)
        return self.menu(state, outcome.replies, locale, answers=True)

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
