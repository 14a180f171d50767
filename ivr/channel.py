"""The phone line as a channel: built when Twilio's Auth Token is set, answers inside the request."""

from __future__ import annotations

import functools
import logging
from collections.abc import Sequence
from urllib.parse import urlsplit

from fastapi import APIRouter

from bot.channels.door import ChannelStore, Door
from bot.engine.content import Content
from bot.http.direct import Endpoint
from bot.messages import Reply
from bot.store.outbox_kinds import PHONE_CHECKIN
from ivr.audio import AudioPrompts
from ivr.callflow import CallFlow
from ivr.calls import CHANNEL
from ivr.checkin_dialer import CallbackDialer
from ivr.hours import OfficeHours
from ivr.prompts import Prompts, load_prompts
from ivr.render import Speaker
from ivr.routes import build_routes
from ivr.signature import TwilioSignature
from ivr.urls import Urls

log = logging.getLogger(__name__)


class PhoneLine:
    """The Twilio voice channel (not a push channel: every answer is TwiML in the HTTP response)."""

    name = CHANNEL
    push = False

    def __init__(
        self,
        door: Door,
        store: ChannelStore,
        content: Content,
        auth_token: str,
        *,
        prompts: Prompts | None = None,
    ) -> None:
        settings = door.settings
        self.door = door
        self.signature = TwilioSignature(auth_token, settings.public_url)
        self.audio = AudioPrompts(settings.twilio_audio_url)
        speaker = Speaker(settings, prompts or load_prompts(), self.audio)
        hours = OfficeHours.parse(settings.office_hours, settings.timezone)
        self.urls = Urls(settings.public_url)
        self.flow = CallFlow(door, store, content, speaker, hours, self.urls)
        self.dialer = CallbackDialer(settings, self.urls)
        self.flow.use_dialer(self.dialer)
        door.on_event(PHONE_CHECKIN, self.flow.place_checkin_call)
        host = urlsplit(settings.public_url).hostname or ""
        if host in ("127.0.0.1", "localhost", "::1"):
            log.warning("phone line: HOTLINE_PUBLIC_URL is a local address; Twilio cannot reach it")
        if not settings.oncall_numbers:
            log.warning("phone line: HOTLINE_ONCALL_NUMBERS is empty; key 9 cannot reach a counsellor")

    @functools.cached_property
    def _routes(self) -> tuple[APIRouter, dict[str, Endpoint]]:
        return build_routes(self)

    def router(self) -> APIRouter:
        return self._routes[0]

    def direct_routes(self) -> dict[tuple[str, str], Endpoint]:
        """Every route of the phone line, served past FastAPI's router (:mod:`bot.http.direct`)."""
        return {("POST", path): endpoint for path, endpoint in self._routes[1].items()}

    async def start(self) -> None:
        await self.audio.load()

    async def stop(self) -> None:
        await self.dialer.close()

    async def send(self, address: str, replies: Sequence[Reply]) -> None:
        raise NotImplementedError("the phone line answers inside Twilio's request; nothing is pushed")


def build(door: Door, *, store: ChannelStore, content: Content) -> PhoneLine | None:
    """The phone line, if ``HOTLINE_TWILIO_AUTH_TOKEN`` is set (without it no request can be trusted)."""
    token = door.settings.twilio_auth_token
    if token is None or not token.get_secret_value():
        return None
    return PhoneLine(door, store, content, token.get_secret_value())
