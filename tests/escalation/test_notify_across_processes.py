"""Two ``hotline serve`` processes on one PostgreSQL wake each other with LISTEN/NOTIFY.

The polls are made slow here (30 s) so that only a notification can explain a delivery within a second;
the same runs with ``HOTLINE_NOTIFY_ENABLED=false`` show that nothing arrives in that second without it.
"""

from __future__ import annotations

import asyncio
import re
import secrets
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import SystemClock
from bot.console.auth import hash_password
from bot.store.db import make_engine, make_sessionmaker
from bot.store.models import Counsellor, StaffAccount
from tests.escalation.test_restart_and_scale import env_for, wait_for
from tests.fakes.twilio_api import FakeTwilio
from tests.support.server import LiveServer, start_server

pytestmark = pytest.mark.slow
PASSWORD = "correct horse battery"
SLOW_POLLS = {"HOTLINE_DISPATCHER_INTERVAL_SECONDS": "30", "HOTLINE_WEBCHAT_CHECK_SECONDS": "30"}
WITHIN = 1.0
"""Seconds: a notified process acts in milliseconds; generous for a busy CI machine."""


def postgresql_only(database_url: str) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("several processes share PostgreSQL; SQLite is for one process (in-process wake-ups)")


def ready(server: LiveServer, *, listening: bool) -> None:
    """Wait until the server built its pagers (and listens, when it should): no start-up race below."""
    wait_for(lambda: "sms ready" in server.log.read_text(errors="replace"), seconds=60)
    if listening:
        wait_for(lambda: "notify: listening" in server.log.read_text(errors="replace"), seconds=30)


async def add_counsellor(database_url: str, username: str) -> None:
    engine = make_engine(database_url)
    try:
        sessions: async_sessionmaker[AsyncSession] = make_sessionmaker(engine)
        async with sessions() as session, session.begin():
            now = SystemClock().now()
            counsellor = Counsellor(display_name=username.title(), active=True, created_at=now)
            session.add(counsellor)
            await session.flush()
            session.add(
                StaffAccount(
                    username=username, password_hash=hash_password(PASSWORD), role="counsellor",
                    counsellor_id=counsellor.id, active=True, created_at=now,
                )
            )  # fmt: skip
    finally:
        await engine.dispose()


async def counsellor_reply_reaches_the_other_process(
    a: LiveServer, b: LiveServer, database_url: str
) -> float:
    """A web chat on B asks for a counsellor, who takes it and writes on A; seconds until B's page has it.

    ``inf`` when B's stream did not ring within :data:`WITHIN` (no look at the slow poll after that).
    """
    await add_counsellor(database_url, "lan")
    person = secrets.token_hex(16)
    async with (
        httpx.AsyncClient(base_url=b.url, timeout=10) as page,
        httpx.AsyncClient(base_url=a.url, timeout=10) as desk,
    ):
        asked = await page.post("/api/webchat", json={"session": person, "text": "tư vấn viên"})
        assert asked.status_code == 200, asked.text
        events = (await page.post("/api/webchat/stream", json={"session": person})).json()["events"]

        assert (
            await desk.post("/console/login", data={"username": "lan", "password": PASSWORD})
        ).status_code == 303
        token = re.search(r'data-token="([0-9a-f]+)"', (await desk.get("/console")).text)
        assert token
        queue = (await desk.get("/console/api/queue")).json()
        assert len(queue) == 1, queue
        escalation_id = queue[0]["id"]
        taken = await desk.post(f"/console/escalations/{escalation_id}/take", data={"token": token.group(1)})
        assert taken.status_code == 303
        notice = (await page.post("/api/webchat/poll", json={"session": person})).json()
        assert "Lan" in notice["replies"][0]["text"], "the page has read that Lan took it: nothing waits now"

        async with page.stream("GET", events) as stream:
            lines = stream.aiter_lines()
            assert (await anext(lines)).startswith("retry:")  # the stream is registered on B now
            started = time.monotonic()
            replied = await desk.post(
                f"/console/escalations/{escalation_id}/reply",
                data={"token": token.group(1), "text": "Chào bạn, mình là Lan."},
                headers={"accept": "application/json"},
            )
            assert replied.status_code == 200, replied.text
            try:
                async with asyncio.timeout(WITHIN):
                    async for line in lines:
                        if line == "event: inbox":
                            break
            except TimeoutError:
                return float("inf")
            fetched = (await page.post("/api/webchat/poll", json={"session": person})).json()
            elapsed = time.monotonic() - started
    assert [r["text"] for r in fetched["replies"]] == ["Lan (tư vấn viên): Chào bạn, mình là Lan."], fetched
    return elapsed


@pytest.mark.parametrize("notify", [True, False], ids=["notify", "without-notify"])
async def test_a_counsellors_message_written_in_one_process_reaches_a_web_chat_on_another_within_a_second(
    database_url: str, twilio: FakeTwilio, tmp_path: Path, notify: bool
) -> None:
    postgresql_only(database_url)
    env = env_for(database_url, twilio, tmp_path, **SLOW_POLLS, HOTLINE_NOTIFY_ENABLED=str(notify).lower())
    a = start_server(env, tmp_path / "a.log")
    b = start_server(env, tmp_path / "b.log")
    try:
        ready(a, listening=notify)
        ready(b, listening=notify)
        elapsed = await counsellor_reply_reaches_the_other_process(a, b, database_url)
        if notify:
            assert elapsed < WITHIN, f"took {elapsed:.3f} s"
            print(f"the counsellor's message reached the other process's page after {elapsed:.3f} s")
        else:
            assert elapsed == float("inf"), "without NOTIFY only the (30 s) poll could have brought it"
        for server in (a, b):
            log = server.log.read_text(errors="replace")
            assert "Chào bạn" not in log and "tư vấn viên" not in log
    finally:
        a.stop()
        b.stop()


@pytest.mark.parametrize("notify", [True, False], ids=["notify", "without-notify"])
def test_an_emergency_written_by_a_process_without_dispatcher_is_paged_by_another_at_once(
    database_url: str, twilio: FakeTwilio, tmp_path: Path, notify: bool
) -> None:
    postgresql_only(database_url)
    env = env_for(database_url, twilio, tmp_path, **SLOW_POLLS, HOTLINE_NOTIFY_ENABLED=str(notify).lower())
    writer = start_server({**env, "HOTLINE_DISPATCHER_ENABLED": "false"}, tmp_path / "writer.log")
    dispatcher = start_server(env, tmp_path / "dispatcher.log")
    try:
        ready(dispatcher, listening=notify)
        started = time.monotonic()
        answer = httpx.post(
            f"{writer.url}/api/webchat",
            json={"session": secrets.token_hex(16), "text": "cuu em voi, no dang danh em"},
            timeout=10,
        )
        assert answer.status_code == 200 and "113" in answer.json()["replies"][0]["text"]
        deadline = started + WITHIN
        while not twilio.sent() and time.monotonic() < deadline:
            time.sleep(0.01)
        elapsed = time.monotonic() - started
        if notify:
            assert twilio.sent(), f"no page within {WITHIN} s"
            assert twilio.sent()[0].to == "+84900000001"
            print(f"first page after {elapsed:.3f} s")
        else:
            assert not twilio.sent(), "without NOTIFY only the (30 s) poll could have paged"
    finally:
        writer.stop()
        dispatcher.stop()
