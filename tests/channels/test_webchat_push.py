"""An open web chat hears at once that a counsellor wrote (its event stream rings), without a poll.

The app runs in a real uvicorn server on loopback (an event stream never ends, so it needs a real HTTP
connection), on SQLite and PostgreSQL; the person's side is httpx reading the stream as a browser's
EventSource would, the counsellor's side is the desk, as the console and Telegram use it.
"""

from __future__ import annotations

import asyncio
import secrets
import socket
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import uvicorn
from sqlalchemy import select

from bot.channels.webchat import WebChat
from bot.clock import FrozenClock
from bot.engine.content import Content
from bot.nlu import NLU
from bot.runtime import Services, build_services
from bot.settings import Settings
from bot.store.models import Counsellor, Escalation

GUARD = 20  # seconds: only so that a broken stream fails the test instead of hanging it


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
async def url(services: Services) -> AsyncIterator[str]:
    from bot.web.app import create_app

    app = create_app(services=services, run_dispatcher=False)
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, lifespan="off", access_log=False)
    )
    task = asyncio.create_task(server.serve())
    async with asyncio.timeout(GUARD):
        while not server.started:  # noqa: ASYNC110 (uvicorn offers a flag, not an event)
            await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        webchat(services).end_streams()
        server.should_exit = True
        await task


def webchat(services: Services) -> WebChat:
    channel = services.channels["webchat"]
    assert isinstance(channel, WebChat)
    return channel


async def post(http: httpx.AsyncClient, path: str, **body: Any) -> dict[str, Any]:
    response = await http.post(path, json=body)
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    return data


async def cry_for_help(http: httpx.AsyncClient, services: Services) -> tuple[str, int, int]:
    """A person writes an emergency; returns their session, the escalation and a counsellor's id."""
    session = secrets.token_hex(16)
    await post(http, "/api/webchat", session=session, text="cứu em với, chồng em đang đánh em")
    async with services.sessionmaker() as db, db.begin():
        escalation = (await db.execute(select(Escalation))).scalar_one()
        counsellor = Counsellor(display_name="Lan", active=True, created_at=services.clock.now())
        db.add(counsellor)
        await db.flush()
        return session, escalation.id, counsellor.id


async def next_event(lines: AsyncIterator[str]) -> str:
    """The name of the next event on the stream (comments and the retry line are skipped)."""
    async with asyncio.timeout(GUARD):
        async for line in lines:
            if line.startswith("event: "):
                return line.removeprefix("event: ")
    raise AssertionError("the stream ended")


async def inbox_texts(http: httpx.AsyncClient, session: str) -> list[str]:
    data = await post(http, "/api/webchat/poll", session=session)
    return [reply["text"] for reply in data["replies"]]


async def test_a_counsellors_message_rings_the_open_web_chat_at_once(url: str, services: Services) -> None:
    webchat(services).bell.check_seconds = 3600  # no periodic check: this process's commit rings at once
    async with httpx.AsyncClient(base_url=url, timeout=GUARD) as http:
        session, escalation_id, lan = await cry_for_help(http, services)
        events = (await post(http, "/api/webchat/stream", session=session))["events"]
        assert session not in events, "the session id, which reads the messages, stays out of URLs"
        async with http.stream("GET", events) as stream:
            assert stream.status_code == 200
            assert stream.headers["content-type"].startswith("text/event-stream")
            lines = stream.aiter_lines()
            assert await anext(lines) == "retry: 3000"

            await services.desk.take(escalation_id, lan, via="console")
            assert await next_event(lines) == "inbox"
            assert any("Lan" in text for text in await inbox_texts(http, session))

            await services.desk.reply(escalation_id, lan, "Chị là Lan. Em có an toàn không?")
            assert await next_event(lines) == "inbox"
            [text] = await inbox_texts(http, session)
            assert text.startswith("Lan") and text.endswith("Chị là Lan. Em có an toàn không?")


async def test_a_message_written_by_another_process_rings_too(
    url: str, services: Services, settings: Settings, clock: FrozenClock, nlu: NLU, content: Content
) -> None:
    other = build_services(settings, clock=clock, nlu=nlu, content=content)  # a second app process
    try:
        async with httpx.AsyncClient(base_url=url, timeout=GUARD) as http:
            session, escalation_id, lan = await cry_for_help(http, services)
            events = (await post(http, "/api/webchat/stream", session=session))["events"]
            async with http.stream("GET", events) as stream:
                lines = stream.aiter_lines()
                await anext(lines)
                await other.desk.take(escalation_id, lan, via="console")
                await other.desk.reply(escalation_id, lan, "Em có an toàn không?")
                assert await next_event(lines) == "inbox"
                texts = await inbox_texts(http, session)
                assert any("Em có an toàn không?" in text for text in texts), texts
    finally:
        await other.close()


async def test_messages_waiting_before_the_stream_opened_ring_at_once(url: str, services: Services) -> None:
    async with httpx.AsyncClient(base_url=url, timeout=GUARD) as http:
        session, escalation_id, lan = await cry_for_help(http, services)
        await services.desk.take(escalation_id, lan, via="console")
        events = (await post(http, "/api/webchat/stream", session=session))["events"]
        async with http.stream("GET", events) as stream:
            assert await next_event(stream.aiter_lines()) == "inbox"
        assert any("Lan" in text for text in await inbox_texts(http, session))


async def test_streams_are_bounded_and_only_with_a_key_from_the_server(url: str, services: Services) -> None:
    bell = webchat(services).bell
    async with httpx.AsyncClient(base_url=url, timeout=GUARD) as http:
        forged = f"{'0' * 64}.{'0' * 32}"
        assert (await http.get("/api/webchat/events", params={"key": forged})).status_code == 403
        assert (await http.post("/api/webchat/stream", json={"session": "short"})).status_code == 422

        session = secrets.token_hex(16)
        events = (await post(http, "/api/webchat/stream", session=session))["events"]
        async with http.stream("GET", events) as first, http.stream("GET", events) as second:
            first_lines, second_lines = first.aiter_lines(), second.aiter_lines()
            await anext(first_lines)
            await anext(second_lines)
            async with http.stream("GET", events) as third:
                assert await next_event(first_lines) == "replaced", (
                    "a third stream of one chat ends the oldest"
                )
                await anext(third.aiter_lines())
                assert bell.open_streams == 2

                bell.max_streams = 2
                other = (await post(http, "/api/webchat/stream", session=secrets.token_hex(16)))["events"]
                refused = await http.get(other)
                assert refused.status_code == 503, "beyond the limit the page keeps polling"
        async with asyncio.timeout(GUARD):
            while bell.open_streams:  # noqa: ASYNC110 (a closed connection is noticed by the server)
                await asyncio.sleep(0.05)


async def test_open_streams_end_when_the_service_shuts_down(url: str, services: Services) -> None:
    async with httpx.AsyncClient(base_url=url, timeout=GUARD) as http:
        events = (await post(http, "/api/webchat/stream", session=secrets.token_hex(16)))["events"]
        async with http.stream("GET", events) as stream:
            lines = stream.aiter_lines()
            await anext(lines)
            webchat(services).end_streams()
            async with asyncio.timeout(GUARD):
                rest = [line async for line in lines]
            assert not any(line.startswith("event:") for line in rest)
        assert (await http.get(events)).status_code == 503, "no new stream while shutting down"


async def test_while_notifications_arrive_the_poll_slows_and_a_lost_listener_looks_at_once(
    url: str, services: Services, settings: Settings, clock: FrozenClock, nlu: NLU, content: Content
) -> None:
    """PostgreSQL's NOTIFY stands in for the 0.5 s poll; when the listener drops, the poll is back at once.

    Run where no listener rings by itself (SQLite, or PostgreSQL with notify off), the listener's state
    set by hand.
    """
    bell = webchat(services).bell
    if services.listener is not None:
        pytest.skip("on PostgreSQL NOTIFY rings by itself (tests/escalation/test_notify_across_processes.py)")
    bell.check_seconds = 0.05
    bell.set_listening(True)
    other = build_services(settings, clock=clock, nlu=nlu, content=content)  # a second app process
    try:
        async with httpx.AsyncClient(base_url=url, timeout=GUARD) as http:
            session, escalation_id, lan = await cry_for_help(http, services)
            events = (await post(http, "/api/webchat/stream", session=session))["events"]
            async with http.stream("GET", events) as stream:
                lines = stream.aiter_lines()
                await anext(lines)
                # Read in a task: a read cancelled by a timeout would end httpx's line iterator.
                rung = asyncio.create_task(next_event(lines))
                await other.desk.take(escalation_id, lan, via="console")
                done, _ = await asyncio.wait({rung}, timeout=0.5)  # 10 polls' worth of time
                assert not done, "while listening, the other process's write waits for its NOTIFY"
                bell.set_listening(False)
                async with asyncio.timeout(2):  # at once, not at the next 10 s safety-net check
                    assert await rung == "inbox"
    finally:
        await other.close()
