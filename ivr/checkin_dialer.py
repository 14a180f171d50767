"""Placing a check-in call-back with the real ``twilio`` REST client (``calls.create``).

Twilio rings the person from the hotline's number. When they pick up, Twilio asks
:data:`~ivr.urls.CHECKIN_CALL` what to say; when the call ends, however it ends (completed, no-answer,
busy, failed, canceled), it posts :data:`~ivr.urls.CHECKIN_STATUS`. Both addresses carry the check-in's
id and the attempt (:class:`~ivr.state.CallState`), and Twilio signs them with the whole URL.

The client talks to ``HOTLINE_TWILIO_API_URL`` when it is set (the fake Twilio in tests), else to
Twilio. The REST client is imported on the first call: it takes a good part of a second to import, and
a service that never places a call-back should not start slower for it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.outbox.dispatcher import Retry
from bot.settings import Settings
from ivr.state import CallState
from ivr.urls import CHECKIN_CALL, CHECKIN_STATUS, Urls

if TYPE_CHECKING:
    from twilio.http.async_http_client import AsyncTwilioHttpClient
    from twilio.rest import Client

RING_SECONDS = 40  # how long the person's phone rings before the call counts as not answered
RETRY_SECONDS = 30.0  # Twilio overloaded (429) or down (5xx): the outbox tries again after this
MISSING = (
    "check-in call-backs need HOTLINE_TWILIO_ACCOUNT_SID, HOTLINE_TWILIO_AUTH_TOKEN and "
    "HOTLINE_TWILIO_CALLER_ID"
)


class CallRefused(Exception):
    """Twilio refused to place the call (a number it cannot call): the attempt counts as missed."""


class CallbackDialer:
    """Places call-backs; one per phone line, its HTTP session opened on the first call."""

    def __init__(self, settings: Settings, urls: Urls) -> None:
        self.settings = settings
        self.urls = urls
        self._client: Client | None = None
        self._http: AsyncTwilioHttpClient | None = None

    @property
    def configured(self) -> bool:
        """Whether call-backs can be placed: the account, its token and the hotline's number are set."""
        settings = self.settings
        return bool(settings.twilio_account_sid and settings.twilio_auth_token and settings.twilio_caller_id)

    def _get_client(self) -> Client:
        if self._client is None:
            from twilio.http.async_http_client import AsyncTwilioHttpClient
            from twilio.rest import Client

            settings = self.settings
            assert settings.twilio_auth_token is not None
            self._http = AsyncTwilioHttpClient(timeout=10)
            self._client = Client(
                settings.twilio_account_sid,
                settings.twilio_auth_token.get_secret_value(),
                http_client=self._http,
            )
            if settings.twilio_api_url:
                self._client.api.base_url = settings.twilio_api_url.rstrip("/")
        return self._client

    async def call(self, number: str, state: CallState) -> str:
        """Ring ``number`` from the hotline's number; the new call's id (``CA...``).

        Raises :class:`~bot.outbox.dispatcher.Retry` when Twilio is overloaded or down, and
        :class:`CallRefused` when it will not call that number (or the settings are missing). Never
        logs the number.
        """
        from twilio.base.exceptions import TwilioRestException

        if not self.configured:
            raise CallRefused(MISSING)
        client = self._get_client()
        try:
            call = await client.calls.create_async(
                to=number,
                from_=self.settings.twilio_caller_id,
                url=self.urls.url(CHECKIN_CALL, state),
                method="POST",
                status_callback=self.urls.url(CHECKIN_STATUS, state),
                status_callback_method="POST",
                timeout=RING_SECONDS,
            )
        except TwilioRestException as exc:
            # ``from None``: Twilio's own message may quote the number, and a chained cause is logged
            if exc.status == 429 or exc.status >= 500:
                raise Retry(RETRY_SECONDS, f"twilio {exc.status}") from None
            raise CallRefused(f"twilio refused the call-back ({exc.status}, code {exc.code})") from None
        except Exception as exc:  # Twilio out of reach (connection refused, timeout...)
            raise Retry(RETRY_SECONDS, f"twilio unreachable ({type(exc).__name__})") from None
        return str(call.sid)

    async def close(self) -> None:
        if self._http is not None and self._http.session is not None:
            await self._http.session.close()
