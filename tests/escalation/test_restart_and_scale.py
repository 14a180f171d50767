"""Nothing about an emergency is lost when the server dies, and two processes never page twice.

These run the real ``hotline serve`` in subprocesses, paging by SMS through a fake Twilio API.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from bot.store.db import make_engine, make_sessionmaker
from bot.store.models import Contact, OutboxEvent
from tests.conftest import SECRET
from tests.fakes.twilio_api import FakeTwilio
from tests.support.server import hotline_env, run_cli, start_server

pytestmark = pytest.mark.slow
ROTA = """
counsellors:
  - {name: Lan, phone: "+84900000001"}
  - {name: Minh, phone: "+84900000002"}
weekly:
  - {days: [mon, tue, wed, thu, fri, sat, sun], from: "00:00", to: "24:00", chain: [Lan, Minh]}
"""


def env_for(database_url: str, twilio: FakeTwilio, tmp_path: Path, **extra: str) -> dict[str, str]:
    env = hotline_env(
        database_url,
        SECRET,
        {
            "HOTLINE_TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
            "HOTLINE_TWILIO_AUTH_TOKEN": "fake-auth-token",
            "HOTLINE_TWILIO_CALLER_ID": "+15550000000",
            "HOTLINE_TWILIO_API_URL": twilio.url,
            **extra,
        },
    )
    rota = tmp_path / "rota.yaml"
    rota.write_text(ROTA)
    done = run_cli(["rota", "import", str(rota)], env)
    assert done.returncode == 0, done.stderr
    return env


def emergency(url: str) -> None:
    response = httpx.post(
        f"{url}/api/webchat", json={"session": secrets.token_hex(16), "text": "cuu em voi, no dang danh em"}
    )
    assert response.status_code == 200 and "113" in response.json()["replies"][0]["text"]


def wait_for(condition, seconds: float = 20.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError("timed out")


async def outbox_states(database_url: str) -> list[tuple[str, str]]:
    engine = make_engine(database_url)
    try:
        async with make_sessionmaker(engine)() as session:
            rows = await session.execute(
                select(OutboxEvent.kind, OutboxEvent.status).order_by(OutboxEvent.id)
            )
            return [(k, s) for k, s in rows.all()]
    finally:
        await engine.dispose()


def test_killed_after_writing_the_escalation_the_page_goes_out_after_restart(
    database_url: str, twilio: FakeTwilio, tmp_path: Path
) -> None:
    env = env_for(database_url, twilio, tmp_path)
    # A process that serves but does not dispatch: it writes the escalation, then dies before paging.
    first = start_server({**env, "HOTLINE_DISPATCHER_ENABLED": "false"}, tmp_path / "first.log")
    emergency(first.url)
    first.kill()
    assert ("page", "pending") in asyncio.run(outbox_states(database_url))
    assert twilio.sent() == []

    second = start_server(env, tmp_path / "second.log")
    try:
        wait_for(lambda: len(twilio.sent()) >= 1)
        page = twilio.sent()[0]
        assert page.to == "+84900000001" and "KHẨN CẤP" in page.body
    finally:
        second.stop()


def test_killed_while_the_page_is_being_sent_it_is_sent_again_after_restart(
    database_url: str, twilio: FakeTwilio, tmp_path: Path
) -> None:
    env = env_for(database_url, twilio, tmp_path, HOTLINE_DISPATCHER_LEASE_SECONDS="2")
    twilio.hang_seconds = 30.0
    first = start_server(env, tmp_path / "first.log")
    emergency(first.url)
    time.sleep(1.5)  # the page is claimed and its request is hanging at "Twilio"
    first.kill()
    twilio.hang_seconds = 0.0
    second = start_server(env, tmp_path / "second.log")
    try:
        wait_for(lambda: len(twilio.sent()) >= 1)
        assert twilio.sent()[0].to == "+84900000001"
    finally:
        second.stop()


def test_two_processes_one_postgresql_one_emergency_one_page_per_counsellor(
    database_url: str, twilio: FakeTwilio, tmp_path: Path
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("several processes share PostgreSQL; SQLite is for one process")
    env = env_for(database_url, twilio, tmp_path, HOTLINE_PAGE_ACK_SECONDS="1")
    servers = [start_server(env, tmp_path / f"server{i}.log") for i in range(2)]
    try:
        emergency(servers[0].url)

        async def unreached() -> bool:
            engine = make_engine(database_url)
            try:
                async with make_sessionmaker(engine)() as session:
                    return bool(await session.scalar(select(Contact.unreached).where(Contact.emergency)))
            finally:
                await engine.dispose()

        wait_for(lambda: asyncio.run(unreached()), seconds=30)
        time.sleep(1.0)  # anything duplicated would arrive now
        to = sorted(r.to for r in twilio.sent())
        # Lan (level 0), Minh (level 1), then everyone once (Lan, Minh): two each, never more.
        assert to == ["+84900000001", "+84900000001", "+84900000002", "+84900000002"], to
        for server in servers:
            log = server.log.read_text(errors="replace")
            assert "+84900000001" not in log and "cuu em" not in log
    finally:
        for server in servers:
            server.stop()
