"""A fake Twilio REST API on loopback: records the messages and calls the real twilio library creates.

It is a :class:`tests.fakes.base.FakeServer` (its own loop in a thread), so async tests, sync tests and
a server in a subprocess can all use it. Requests are named ``Messages``, ``Calls``, ``Account`` and
``IncomingPhoneNumbers``: ``fail("Messages", times=2)`` answers the next two SMS with Twilio's 500.
"""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass
from typing import Any

from aiohttp import BasicAuth, web

from tests.fakes.base import Call, FakeServer


@dataclass
class Recorded:
    kind: str  # "sms" | "call"
    to: str
    sender: str
    body: str  # the SMS text, or the call's inline TwiML ("None" for a call given a URL)
    sid: str = ""
    url: str = ""  # a call's TwiML address (what Twilio asks once the call is picked up)
    status_callback: str = ""  # where a call's end is reported


class FakeTwilio(FakeServer):
    """``url`` is what HOTLINE_TWILIO_API_URL points at.

    With ``credentials`` set (account SID, auth token), requests signed with others get Twilio's 401.
    ``numbers`` are the account's phone numbers and their voice URLs (``IncomingPhoneNumbers``).
    ``hang_seconds`` makes a create answer that slowly (a send still under way when the app dies).
    """

    def __init__(self) -> None:
        super().__init__()
        self.credentials: tuple[str, str] | None = None
        self.numbers: dict[str, str] = {}
        self.records: list[Recorded] = []
        self.hang_seconds = 0.0
        self._stopping = False
        self._ids = itertools.count(1)

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/2010-04-01/Accounts/{sid}/Messages.json", self._messages)
        app.router.add_post("/2010-04-01/Accounts/{sid}/Calls.json", self._calls)
        app.router.add_get("/2010-04-01/Accounts/{sid}.json", self._account)
        app.router.add_get("/2010-04-01/Accounts/{sid}/IncomingPhoneNumbers.json", self._incoming_numbers)

    def name_of(self, request: web.Request) -> str:
        last = request.path.rsplit("/", 1)[-1].removesuffix(".json")
        return "Account" if last.startswith("AC") or last == request.match_info.get("sid") else last

    def error_body(self, status: int) -> dict[str, Any]:
        return {"code": 20500, "message": "fake outage", "status": status}

    def stopping(self) -> None:
        self._stopping = True

    def sent(self, kind: str = "sms") -> list[Recorded]:
        return [r for r in list(self.records) if r.kind == kind]

    def _refused(self, call: Call, request: web.Request) -> web.Response | None:
        """Twilio's 401 when the request's Basic credentials are not the account's (if the fake has any)."""
        if self.credentials is None:
            return None
        try:
            auth = BasicAuth.decode(request.headers.get("Authorization", ""))
        except ValueError:
            auth = None
        sid, token = self.credentials
        if auth is None or (auth.login, auth.password) != (sid, token) or request.match_info["sid"] != sid:
            return self.refuse(call, 401, {"code": 20003, "message": "Authenticate", "status": 401})
        return None

    async def _account(self, request: web.Request) -> web.Response:
        refused = self._refused(self.call_of(request), request)
        if refused is not None:
            return refused
        sid = request.match_info["sid"]
        return web.json_response({"sid": sid, "friendly_name": "Hotline", "status": "active"})

    async def _incoming_numbers(self, request: web.Request) -> web.Response:
        refused = self._refused(self.call_of(request), request)
        if refused is not None:
            return refused
        wanted = request.query.get("PhoneNumber")
        found = [
            {"sid": f"PN{index:032d}", "phone_number": number, "voice_url": voice_url}
            for index, (number, voice_url) in enumerate(self.numbers.items())
            if wanted is None or number == wanted
        ]
        return web.json_response(
            {"incoming_phone_numbers": found, "page": 0, "page_size": 50, "next_page_uri": None}
        )

    async def _messages(self, request: web.Request) -> web.Response:
        return await self._create(request, "sms", "Body", "SM")

    async def _calls(self, request: web.Request) -> web.Response:
        return await self._create(request, "call", "Twiml", "CA")

    async def _create(self, request: web.Request, kind: str, field_name: str, prefix: str) -> web.Response:
        call = self.call_of(request)
        form = call.form()
        refused = self._refused(call, request)
        if refused is not None:
            return refused
        if self.hang_seconds:
            deadline = asyncio.get_running_loop().time() + self.hang_seconds
            while asyncio.get_running_loop().time() < deadline and not self._stopping:  # noqa: ASYNC110
                await asyncio.sleep(0.05)
            return self.refuse(call, 503, {"code": 20500, "message": "too slow", "status": 503})
        sid = f"{prefix}{next(self._ids):032d}"
        self.records.append(
            Recorded(
                kind,
                str(form.get("To")),
                str(form.get("From")),
                str(form.get(field_name)),
                sid=sid,
                url=str(form.get("Url") or ""),
                status_callback=str(form.get("StatusCallback") or ""),
            )
        )
        body: dict[str, Any] = {
            "sid": sid,
            "status": "queued",
            "to": form.get("To"),
            "from": form.get("From"),
        }
        return web.json_response(body, status=201)
