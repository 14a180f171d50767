"""What every part of a call needs: the engine, the database, the clock, and speaking a menu.

The phone line keeps no menu between requests. The engine turn on the line is sent again with the
same transport id, and the engine's de-duplication gives back the very same replies without counting
anything twice: that is how ``*`` repeats, and how a pressed key is matched to a choice.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession
from twilio.twiml.voice_response import VoiceResponse

from bot.channels.door import ChannelStore, Door
from bot.content.fields import LOCALES
from bot.content.flows import Flows
from bot.engine.content import Content
from bot.errors import ConfigError
from bot.messages import InboundMessage, Outcome, Reply
from ivr import calls
from ivr.answered import AnsweredCalls
from ivr.hours import OfficeHours
from ivr.keys import COUNSELLOR, DANGER, fixed_keys, menu_page
from ivr.render import Speaker, speak_keys, speak_replies
from ivr.state import Caller, CallState
from ivr.urls import KEY, Urls

log = logging.getLogger(__name__)

EMERGENCY_NODE = "emergency.start"
EMERGENCY_FLOW = EMERGENCY_NODE.split(".", 1)[0]
COUNSELLOR_NODE = "counsellor.request"


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


def menu_reply(replies: Sequence[Reply]) -> Reply | None:
    """The reply that offers choices (the last one), or None when the conversation ended."""
    return replies[-1] if replies and replies[-1].choices else None


class CallBase:
    """Shared by the menu and the counsellor parts of a call; holds no state of its own."""

    def __init__(
        self,
        door: Door,
        store: ChannelStore,
        content: Content,
        speaker: Speaker,
        hours: OfficeHours,
        urls: Urls,
    ) -> None:
        self.door = door
        self.store = store  # the phone line's own bookkeeping: calls, call-backs, accepted calls
        self.settings = door.settings
        self.answered = AnsweredCalls(store, door.settings.default_locale)
        self.speaker = speaker
        self.hours = hours
        self.urls = urls
        flows = content.flows
        self.fixed = fixed_keys(flows)
        self.gotos = {node.choice_id(c): c.goto for node in flows.nodes.values() for c in node.choices}
        # where a choice leads once the nodes that do not wait have run ("danger.need_help" records the
        # answer, then goes on to the emergency)
        self.leads_to = {
            choice: (flows.nodes[goto].next or goto)
            if goto in flows.nodes and flows.nodes[goto].type == "action"
            else goto
            for choice, goto in self.gotos.items()
        }
        self.emergency_choice = _choice_to(flows, EMERGENCY_NODE, DANGER)
        self.counsellor_choice = _choice_to(flows, COUNSELLOR_NODE, COUNSELLOR)
        # The spoken replies that fit a kind of danger (first aid, 111...): said again if nobody answers.
        self.kind_voices = frozenset(
            node.voice.get(locale)
            for node in flows.nodes.values()
            if node.flow == EMERGENCY_FLOW and node.type == "say" and node.voice is not None
            for locale in LOCALES
        )
        self.articles_by_voice = {
            article.voice.get(locale): article.id
            for article in content.knowledge.articles.values()
            for locale in LOCALES
        }
        # The welcome as the engine said it, by language, and as TwiML by (language, office open): a new
        # call is greeted from here once the engine has said it (ivr/callflow.py, ``incoming``).
        self._welcome: dict[str, tuple[Reply, ...]] = {}
        self._greetings: dict[tuple[str, bool], str] = {}
        self._learning: dict[str, asyncio.Future[None]] = {}  # a welcome being learned, by language

    # -- the engine, the database, the clock ---------------------------------------------------

    async def send(self, caller: Caller, turn: int, **message: str) -> Outcome:
        """The call's ``turn``-th message to the engine (the call is the session, the number the user)."""
        return await self.door.handle(
            InboundMessage(
                calls.CHANNEL,
                caller.user_id,
                transport_id=caller.transport_id(turn),
                session_id=caller.call_sid,
                **message,
            )
        )

    async def replay(self, caller: Caller, turn: int) -> tuple[Reply, ...]:
        """The replies of a turn already on the line (the engine answers a repeated id the same)."""
        return (await self.shown(caller, turn))[0]

    async def shown(self, caller: Caller, turn: int) -> tuple[tuple[Reply, ...], str]:
        """The replies of a turn already on the line, and the conversation's language: one engine call."""
        outcome = await self.send(caller, turn, kind="start")
        if not outcome.duplicate:
            log.warning("replaying turn %d of a call found no earlier answer; it started anew", turn)
        return outcome.replies, outcome.locale or self.settings.default_locale

    async def locale(self, caller: Caller) -> str:
        """The language of the caller's conversation (chosen in the welcome menu)."""
        return await self.door.locale(caller.user_id)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        async with self.store.sessionmaker() as session, session.begin():
            yield session

    def now(self) -> datetime:
        return self.store.clock.now()

    # -- speaking a menu -----------------------------------------------------------------------

    def menu(
        self,
        state: CallState,
        replies: Sequence[Reply],
        locale: str,
        *,
        answers: bool,
        before: Sequence[str] = (),
        open_now: bool | None = None,
    ) -> VoiceResponse:
        """Speak the replies (or only the menu), the keys and the footer, and wait for a key.

        ``open_now``: whether the office is open (the footer says how to reach a counsellor), if known."""
        speaker = self.speaker
        menu = menu_reply(replies)
        if menu is None:  # the conversation ended (for example "quick exit"): say it, then goodbye
            response = VoiceResponse()
            speak_replies(speaker, response, replies, locale, self.articles_by_voice)
            speaker.prompt(response, "end", locale)
            response.hangup()
            return response
        page = menu_page(menu.choices, self.fixed, state.page)
        listens = speaker.listens(locale)
        action = self.urls.url(KEY, replace(state, page=page.page, speech=int(listens)))
        response = VoiceResponse()
        gather = speaker.gather(response, action, locale, speech=listens)
        for prompt in before:
            speaker.prompt(gather, prompt, locale)
        speak_replies(speaker, gather, replies if answers else [menu], locale, self.articles_by_voice)
        speak_keys(speaker, gather, page, locale)
        if open_now is None:
            open_now = self.hours.is_open(self.now())
        speaker.prompt(gather, "footer" if open_now else "footer_after_hours", locale)
        response.redirect(action, method="POST")
        return response
