"""Paging counsellors by SMS or by a phone call, with the real ``twilio`` library.

The Twilio client talks to ``HOTLINE_TWILIO_API_URL`` when it is set (a local fake in tests), else to
Twilio. A 429 or a server error is retried through the outbox; a refused number gives up.

twilio's REST client (and aiohttp under it: together some 10 MiB and a good part of a second) is imported
on the first page, not when the pager is built: a service that never pages by phone never loads it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from twilio.base.exceptions import TwilioRestException
from twilio.twiml.voice_response import VoiceResponse

from bot.escalation.paging import Page
from bot.outbox.dispatcher import GiveUp, Retry
from bot.settings import Settings

if TYPE_CHECKING:
    from twilio.http.async_http_client import AsyncTwilioHttpClient
    from twilio.rest import Client

PAGE_MODULES = (
    "twilio.rest",
    "twilio.http.async_http_client",
    "twilio.rest.api.v2010.account.message",
    "twilio.rest.api.v2010.account.call",
)
"""What a page by SMS or by a call imports on its way (twilio loads its REST resources when first used)."""


class TwilioPager:
    """Pages by SMS (``route="sms"``) or by a call that reads the page out (``route="voice"``)."""

    def __init__(self, settings: Settings, route: str) -> None:
        self.settings = settings
        self.route = route
        self._client: Client | None = None
        self._http: AsyncTwilioHttpClient | None = None

    def _get_client(self) -> Client:
        if self._client is None:
            from twilio.http.async_http_client import AsyncTwilioHttpClient
            from twilio.rest import Client

            token = self.settings.twilio_auth_token
            self._http = AsyncTwilioHttpClient(timeout=10)
            self._client = Client(
                self.settings.twilio_account_sid,
                token.get_secret_value() if token else None,
                http_client=self._http,
            )
            if self.settings.twilio_api_url:
                self._client.api.base_url = self.settings.twilio_api_url.rstrip("/")
        return self._client

    def warm(self) -> None:
        """Import the REST client and the two resources a page uses (in a thread, once the server answers:
        :meth:`bot.runtime.Services.warm`), so that the first page does not wait for them."""
        for module in PAGE_MODULES:
            importlib.import_module(module)

    async def _send(self, address: str, text: str, *, call: bool) -> None:
        client = self._get_client()
        try:
            if call:
                response = VoiceResponse()
                for _ in range(2):
                    response.say(text, voice=self.settings.twilio_voice, language="vi-VN")
                    response.pause(length=1)
                await client.calls.create_async(
                    to=address, from_=self.settings.twilio_caller_id, twiml=str(response)
                )
            else:
                await client.messages.create_async(
                    to=address, from_=self.settings.twilio_caller_id, body=text
                )
        except TwilioRestException as exc:
            if exc.status == 429 or exc.status >= 500:
                raise Retry(15.0, f"twilio {exc.status}") from exc
            raise GiveUp(f"twilio refused the page ({exc.status}, code {exc.code})") from exc

    async def page(self, address: str, page: Page) -> None:
        await self._send(
            address, page.text_vi if self.route == "voice" else page.text, call=self.route == "voice"
        )

    async def notify(self, address: str, text: str) -> None:
        if self.route == "sms":
            await self._send(address, text, call=False)

    async def close(self) -> None:
        if self._http is not None and self._http.session is not None:
            await self._http.session.close()


def _configured(settings: Settings) -> bool:
    return bool(settings.twilio_account_sid and settings.twilio_auth_token and settings.twilio_caller_id)


def build_sms(settings: Settings) -> TwilioPager | None:
    if _configured(settings) and settings.page_phone_route in ("sms", "both"):
        return TwilioPager(settings, "sms")
    return None


def build_voice(settings: Settings) -> TwilioPager | None:
    if _configured(settings) and settings.page_phone_route in ("voice", "both"):
        return TwilioPager(settings, "voice")
    return None
