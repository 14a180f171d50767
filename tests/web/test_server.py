"""The HTTP server's limits (bot/web/server.py), over real sockets on loopback against a tiny ASGI app.

uvicorn alone never closes a connection that sends its headers slowly, or nothing at all; these tests
would hang until their own timeout against it.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
import uvicorn
from starlette.types import Receive, Scope, Send

from bot.web.server import MAX_HEADER_BYTES, connection_limit, protocol_class, server_options

TIMEOUT = 0.3  # the server's request timeout in these tests
PATIENCE = 10.0  # how long a test waits for what must happen well within TIMEOUT


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    """``/slow``: an answer streamed in three parts over 3 x TIMEOUT; anything else: ``ok`` at once."""
    assert scope["type"] == "http"
    while (await receive()).get("more_body"):
        pass
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
    if scope["path"] == "/slow":
        for _ in range(3):
            await send({"type": "http.response.body", "body": b"part ", "more_body": True})
            await asyncio.sleep(TIMEOUT)
    await send({"type": "http.response.body", "body": b"ok"})


@asynccontextmanager
async def serving(max_connections: int = 100) -> AsyncIterator[int]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = int(sock.getsockname()[1])
    protocol = protocol_class(request_timeout=TIMEOUT, max_connections=max_connections)
    config = uvicorn.Config(
        app, log_config=None, lifespan="off", http=protocol, ws="none", limit_concurrency=max_connections
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:  # noqa: ASYNC110 (uvicorn tells it by a flag only)
        await asyncio.sleep(0.01)
    try:
        yield port
    finally:
        server.should_exit = True
        await task
        sock.close()


async def closed_by_server(reader: asyncio.StreamReader) -> bytes:
    """Everything the server sent until it closed the connection (fails if it does not within PATIENCE)."""
    return await asyncio.wait_for(reader.read(), PATIENCE)


async def get(port: int, path: str = "/") -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
    try:
        return await closed_by_server(reader)
    finally:
        writer.close()


async def test_a_connection_that_sends_its_headers_slowly_is_closed_within_the_timeout() -> None:
    async with serving() as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET / HTTP/1.1\r\nHost: x\r\n")  # and never the blank line
        await writer.drain()
        started = asyncio.get_running_loop().time()
        assert await closed_by_server(reader) == b""
        assert asyncio.get_running_loop().time() - started < PATIENCE
        writer.close()


async def test_a_connection_that_sends_nothing_is_closed() -> None:
    async with serving() as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        assert await closed_by_server(reader) == b""
        writer.close()


async def test_a_body_that_never_ends_is_cut_off() -> None:
    async with serving() as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{")
        await writer.drain()
        assert b"200" not in await closed_by_server(reader)
        writer.close()


async def test_a_long_answer_is_not_cut_by_the_request_timeout() -> None:
    """The timeout covers receiving the request only: an event stream runs as long as it needs."""
    async with serving() as port:
        answer = await get(port, "/slow")
    assert (
        answer.startswith(b"HTTP/1.1 200")
        and answer.count(b"part") == 3
        and answer.endswith(b"ok\r\n0\r\n\r\n")
    )


async def test_keep_alive_then_a_slow_second_request_is_closed() -> None:
    async with serving() as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        await writer.drain()
        first = await asyncio.wait_for(reader.readuntil(b"ok\r\n0\r\n\r\n"), PATIENCE)
        assert first.startswith(b"HTTP/1.1 200")
        writer.write(b"GET / HTTP/1.1\r\nHo")
        await writer.drain()
        assert await closed_by_server(reader) == b""
        writer.close()


async def test_headers_over_the_limit_get_431() -> None:
    async with serving() as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET / HTTP/1.1\r\nHost: x\r\n")
        for _ in range(MAX_HEADER_BYTES // 1000 + 2):
            writer.write(b"X-Filler: " + b"a" * 1000 + b"\r\n")
        writer.write(b"\r\n")
        answer = await closed_by_server(reader)
        assert answer.startswith(b"HTTP/1.1 431")
        writer.close()


async def test_when_full_the_oldest_waiting_connection_makes_room_and_requests_are_served() -> None:
    async with serving(max_connections=20) as port:
        slow = [await asyncio.open_connection("127.0.0.1", port) for _ in range(40)]
        for _, writer in slow:
            writer.write(b"GET / HTTP/1.1\r\n")
        await asyncio.gather(*(writer.drain() for _, writer in slow))
        answers = await asyncio.gather(*(get(port) for _ in range(5)))
        assert all(a.startswith(b"HTTP/1.1 200") for a in answers), answers
        assert await closed_by_server(slow[0][0]) == b"", "the oldest slow connection was closed"
        for _, writer in slow:
            writer.close()


def test_the_connection_limit_fits_under_the_open_files_limit() -> None:
    assert connection_limit(4000, 65536) == 4000
    assert connection_limit(4000, 1024) == 1024 - 128


async def test_an_upgrade_request_is_served_as_plain_http_without_warnings(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with serving() as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n")
        answer = await asyncio.wait_for(reader.readuntil(b"ok\r\n0\r\n\r\n"), PATIENCE)
        writer.close()
    assert answer.startswith(b"HTTP/1.1 200")
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING], caplog.text


def test_serve_runs_on_uvloop_and_httptools() -> None:
    """``hotline serve`` asks for both by name: "auto" would fall back to asyncio and h11 without a word."""
    import uvloop
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    config = uvicorn.Config(app, **server_options(request_timeout=5, max_connections=100, keep_alive=5))
    config.load()
    assert issubclass(config.http_protocol_class, HttpToolsProtocol)
    loop = config.get_loop_factory()()  # type: ignore[misc]
    try:
        assert isinstance(loop, uvloop.Loop)
    finally:
        loop.close()
