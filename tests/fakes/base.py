"""The one base for every fake of the outside world (Telegram, Zalo, Twilio, and the next channel's API).

A fake is a small real HTTP server (``aiohttp.web``) on ``127.0.0.1`` and a free port, that the real
client libraries (aiogram, httpx, twilio) talk to over HTTP. The base gives every fake the same four
things, so a test reads the same whichever platform it fakes:

- **one lifecycle**: the server runs on its own event loop in a background thread, so the same fake
  serves async tests, sync tests (a CLI command run in the test) and a ``hotline serve`` subprocess.
  Use it as a context manager, sync or async (``with FakeZalo() as zalo`` or
  ``async with FakeTelegram() as telegram``); ``start()``/``stop()`` do the same by hand.
- **a record of every request**: ``calls`` holds one :class:`Call` per request, in order (its ``name``
  is what the fake calls the endpoint: the Bot API method, or the path), with the status answered.
- **failing on demand**: ``fail(name, status=..., body=..., times=N, after=M)`` answers ``N`` requests
  to ``name`` with that status and body once ``M`` more have succeeded (``times=N`` then success is
  "fails N times, then works"). The fake's ``error_body`` gives the platform's own error shape when
  no body is given.
- **the URL** to hand the app's settings (``url``).

Writing a new fake (for example the Graph API for Messenger, ``tests/fakes/graph_api.py``)::

    class FakeGraph(FakeServer):
        '''The Send API, recording what the page sent.'''

        def __init__(self, page_token: str = "page-token") -> None:
            super().__init__()
            self.page_token = page_token
            self.sent: list[dict[str, Any]] = []

        def routes(self, app: web.Application) -> None:
            app.router.add_post("/{version}/me/messages", self._send)

        def name_of(self, request: web.Request) -> str:
            return "messages"  # what ``fail("messages", ...)`` and ``calls_of("messages")`` use

        def error_body(self, status: int) -> dict[str, Any]:
            return {"error": {"message": "fake failure", "type": "OAuthException", "code": status}}

        async def _send(self, request: web.Request) -> web.Response:
            call = self.call_of(request)  # the request as recorded (body, JSON, headers)
            if request.query.get("access_token") != self.page_token:
                return self.refuse(call, 401, self.error_body(190))
            self.sent.append(call.json())
            return web.json_response({"recipient_id": "1", "message_id": "m.1"})

The base records the call and applies ``fail`` before a route runs; a route only writes the platform's
behaviour. A fixture in ``tests/conftest.py`` then gives it to tests::

    @pytest.fixture
    def graph() -> Iterator[FakeGraph]:
        with FakeGraph() as fake:
            yield fake
"""

from __future__ import annotations

import asyncio
import json
import threading
import urllib.parse
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Self

from aiohttp import web

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass
class Call:
    """One request a fake received: what it was, what it carried, and the status the fake answered."""

    name: str  # the endpoint as the fake names it (a Bot API method, or the path)
    path: str
    headers: dict[str, str]  # lower-case names
    body: bytes = b""
    params: dict[str, Any] = field(default_factory=dict)  # the query, the form or the JSON object
    status: int = 200

    def json(self) -> Any:
        return json.loads(self.body or b"{}")

    def form(self) -> dict[str, str]:
        return dict(urllib.parse.parse_qsl(self.body.decode()))


_CALL_KEY = web.RequestKey("fake_call", Call)  # where the middleware leaves the Call on the request


@dataclass
class Failure:
    """What ``fail`` asked for: answer ``times`` requests with ``status`` and ``body``, after ``after`` succeed."""

    status: int
    body: Any
    times: int = 1
    after: int = 0


class FakeServer:
    """A fake platform on loopback, on its own event loop in a thread. Subclasses add ``routes``."""

    host = "127.0.0.1"

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.port = 0
        self._failures: dict[str, list[Failure]] = defaultdict(list)
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None

    # -- what a subclass writes ------------------------------------------------------------------------

    def routes(self, app: web.Application) -> None:
        """Add the platform's endpoints to ``app``."""
        raise NotImplementedError

    def name_of(self, request: web.Request) -> str:
        """The name a request is recorded and failed under (default: its path)."""
        return request.path

    async def describe(self, request: web.Request) -> Call:
        """The request as recorded; the default keeps the raw body and the query as ``params``."""
        body = await request.read()
        return Call(
            name=self.name_of(request),
            path=request.path,
            headers={key.lower(): value for key, value in request.headers.items()},
            body=body,
            params=dict(request.query),
        )

    def error_body(self, status: int) -> Any:
        """The platform's error body for a ``fail`` that gave none."""
        return {"error": status}

    # -- what tests use ----------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def fail(self, name: str, *, status: int = 500, body: Any = None, times: int = 1, after: int = 0) -> None:
        """Answer the next ``times`` requests to ``name`` with ``status`` (once ``after`` more succeeded)."""
        with self._lock:
            self._failures[name].append(
                Failure(status, self.error_body(status) if body is None else body, times, after)
            )

    def calls_of(self, name: str, *, ok_only: bool = True) -> Sequence[Call]:
        """The requests to ``name`` (only those answered 200/201 unless ``ok_only`` is false)."""
        return [c for c in list(self.calls) if c.name == name and (c.status < 300 or not ok_only)]

    def call_of(self, request: web.Request) -> Call:
        """Inside a route: the :class:`Call` recorded for this request."""
        return request[_CALL_KEY]

    def refuse(self, call: Call, status: int, body: Any) -> web.Response:
        """A JSON error answer, with its status recorded on the call."""
        call.status = status
        return web.json_response(body, status=status)

    def call_soon(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` on the fake's own loop (for state its handlers wait on, e.g. an ``asyncio.Event``)."""
        if self._loop is not None:
            self._loop.call_soon_threadsafe(callback)
        else:
            callback()

    # -- the lifecycle -----------------------------------------------------------------------------------

    def start(self) -> Self:
        loop = asyncio.new_event_loop()
        ready = threading.Event()
        errors: list[BaseException] = []

        def run() -> None:
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(self._serve())
            except BaseException as error:
                errors.append(error)
                ready.set()
                return
            ready.set()
            loop.run_forever()
            loop.close()

        self._loop = loop
        self._thread = threading.Thread(target=run, name=f"fake-{type(self).__name__}", daemon=True)
        self._thread.start()
        if not ready.wait(10) or errors:
            raise RuntimeError(f"{type(self).__name__} did not start") from (errors[0] if errors else None)
        return self

    def stop(self) -> None:
        loop, thread, self._loop, self._thread = self._loop, self._thread, None, None
        if loop is None or thread is None:
            return
        self.stopping()
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), loop).result(10)
            self._runner = None
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)

    def stopping(self) -> None:
        """Called first by ``stop``: a subclass ends anything that would keep a request open."""

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    async def __aenter__(self) -> Self:
        return await asyncio.to_thread(self.start)

    async def __aexit__(self, *exc: object) -> None:
        await asyncio.to_thread(self.stop)

    # -- inside the server -----------------------------------------------------------------------------

    async def _serve(self) -> None:
        app = web.Application(middlewares=[self._middleware])
        self.routes(app)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, 0)
        await site.start()
        self.port = int(self._runner.addresses[0][1])

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        call = await self.describe(request)
        request[_CALL_KEY] = call
        with self._lock:
            self.calls.append(call)
            failure = self._due_failure(call.name)
        if failure is not None:
            return self.refuse(call, failure.status, failure.body)
        try:
            response = await handler(request)
        except web.HTTPException as exc:  # a route that answers by raising (web.HTTPBadGateway ...)
            call.status = exc.status
            raise
        if call.status == 200:
            call.status = response.status
        return response

    def _due_failure(self, name: str) -> Failure | None:
        failures = self._failures.get(name)
        if not failures:
            return None
        first = failures[0]
        if first.after > 0:
            first.after -= 1
            return None
        first.times -= 1
        if first.times <= 0:
            failures.pop(0)
        return first
