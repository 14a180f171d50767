"""A fake Twilio REST API on loopback: records the messages and calls the real twilio library creates.

It runs in a background thread with its own event loop, so both async tests and tests that drive a
server in a subprocess can use it.
"""

from __future__ import annotations

import asyncio
import itertools
import threading
from dataclasses import dataclass, field
from typing import Any

from aiohttp import BasicAuth, web


@dataclass
class Recorded:
    kind: str  # "sms" | "call"
    to: str
    sender: str
    body: str


@dataclass
class FakeTwilio:
    """``url`` is what HOTLINE_TWILIO_API_URL points at. ``fail_next`` answers that many requests with 500.

    With ``credentials`` set (account SID, auth token), requests signed with others get Twilio's 401.
    ``numbers`` are the account's phone numbers and their voice URLs (``IncomingPhoneNumbers``).
    """

    url: str = ""
    credentials: tuple[str, str] | None = None
    numbers: dict[str, str] = field(default_factory=dict)
    records: list[Recorded] = field(default_factory=list)
    fail_next: int = 0
    hang_seconds: float = 0.0  # answer this slowly (a send that is still under way when the app dies)
    stopping: bool = False
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def _refused(self, request: web.Request) -> web.Response | None:
        """Twilio's 401 when the request's Basic credentials are not the account's (if the fake has any)."""
        if self.credentials is None:
            return None
        try:
            auth = BasicAuth.decode(request.headers.get("Authorization", ""))
        except ValueError:
            auth = None
        sid, token = self.credentials
        if auth is None or (auth.login, auth.password) != (sid, token) or request.match_info["sid"] != sid:
            body = {"code": 20003, "message": "Authenticate", "status": 401}
            return web.json_response(body, status=401)
        return None

    async def _account(self, request: web.Request) -> web.Response:
        sid = request.match_info["sid"]
        refused = self._refused(request)
        if refused is not None:
            return refused
        return web.json_response({"sid": sid, "friendly_name": "Hotline", "status": "active"})

    async def _incoming_numbers(self, request: web.Request) -> web.Response:
        refused = self._refused(request)
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
        form = await request.post()
        refused = self._refused(request)
        if refused is not None:
            return refused
        if self.hang_seconds:
            deadline = asyncio.get_running_loop().time() + self.hang_seconds
            while asyncio.get_running_loop().time() < deadline and not self.stopping:  # noqa: ASYNC110
                await asyncio.sleep(0.05)
            return web.json_response({"code": 20500, "message": "too slow", "status": 503}, status=503)
        with self._lock:
            if self.fail_next > 0:
                self.fail_next -= 1
                return web.json_response({"code": 20500, "message": "fake outage", "status": 500}, status=500)
            self.records.append(
                Recorded(kind, str(form.get("To")), str(form.get("From")), str(form.get(field_name)))
            )
            sid = f"{prefix}{next(self._ids):032d}"
        body: dict[str, Any] = {
            "sid": sid,
            "status": "queued",
            "to": form.get("To"),
            "from": form.get("From"),
        }
        return web.json_response(body, status=201)

    def sent(self, kind: str = "sms") -> list[Recorded]:
        with self._lock:
            return [r for r in self.records if r.kind == kind]


def start_fake_twilio() -> tuple[FakeTwilio, callable]:  # type: ignore[valid-type]
    """Start the fake; returns it and a function that stops it."""
    fake = FakeTwilio()
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    state: dict[str, Any] = {}

    async def start() -> None:
        app = web.Application()
        app.router.add_post("/2010-04-01/Accounts/{sid}/Messages.json", fake._messages)
        app.router.add_post("/2010-04-01/Accounts/{sid}/Calls.json", fake._calls)
        app.router.add_get("/2010-04-01/Accounts/{sid}.json", fake._account)
        app.router.add_get("/2010-04-01/Accounts/{sid}/IncomingPhoneNumbers.json", fake._incoming_numbers)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        fake.url = f"http://127.0.0.1:{port}"
        state["runner"] = runner
        ready.set()

    def run() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(start())
        loop.run_forever()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    ready.wait(10)

    def stop() -> None:
        fake.stopping = True

        async def shutdown() -> None:
            await state["runner"].cleanup()

        asyncio.run_coroutine_threadsafe(shutdown(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)

    return fake, stop
