"""Floods through the web chat: one client is capped, real people around it are not (SQLite and PostgreSQL).

The client is its network address (here the test client's peer, or X-Forwarded-For behind the trusted
loopback proxy). Caps are set low so that a flood is a handful of requests.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from bot.clock import FrozenClock
from bot.engine.floods import CAPPED
from bot.messages import InboundMessage
from bot.runtime import Services
from bot.store.models import Escalation, FloodCount, OutboxEvent
from tests.escalation.conftest import RecordingPager, drain, rota, telegram_pager  # noqa: F401 (fixtures)
from tests.support.db import assert_nothing_written, row_counts

EMERGENCY = "cuu em voi, ck dang danh em"
FLOODER = "203.0.113.7"
PERSON = "198.51.100.23"


@pytest.fixture
def caps(services: Services) -> Services:
    services.settings.flood_alerts_per_hour = 3
    services.settings.flood_sessions_per_minute = 5
    services.settings.flood_sessions_per_hour = 8
    return services


async def say(
    client: httpx.AsyncClient, text: str, *, address: str, session: str | None = None, status: int = 200
) -> dict[str, Any]:
    response = await client.post(
        "/api/webchat",
        json={"session": session or secrets.token_hex(16), "text": text},
        headers={"X-Forwarded-For": address},
    )
    assert response.status_code == status, response.text
    return response.json()


def said(data: dict[str, Any]) -> str:
    return " ".join(r["text"] for r in data["replies"])


async def events(services: Services, *kinds: str) -> int:
    async with services.sessionmaker() as session:
        query = select(func.count()).select_from(OutboxEvent).where(OutboxEvent.kind.in_(kinds))
        return int(await session.scalar(query) or 0)


async def escalations(services: Services) -> list[Escalation]:
    async with services.sessionmaker() as session:
        return list((await session.execute(select(Escalation).order_by(Escalation.id))).scalars())


async def test_a_client_over_the_emergency_cap_still_gets_the_safety_text_and_is_queued_but_not_paged(
    client: httpx.AsyncClient,
    caps: Services,
    rota: dict[str, int],  # noqa: F811
    telegram_pager: RecordingPager,  # noqa: F811
) -> None:
    services = caps
    services.settings.flood_sessions_per_minute = 20
    for _ in range(3):
        data = await say(client, EMERGENCY, address=FLOODER)
        assert "113" in said(data) and "Mình đang gọi tư vấn viên" in said(data)
    assert await events(services, "page") == 3
    await drain(services)
    pages_before = len(telegram_pager.pages)

    for _ in range(4):
        data = await say(client, EMERGENCY, address=FLOODER)
        text = said(data)
        assert "113" in text and "115" in text and "1900 969 680" in text, "the safety text, in full"
        assert "hàng chờ" in text, "told honestly that it waits in the queue"
        assert any("Thoát nhanh" in c["label"] for c in data["replies"][0]["choices"])
    assert await events(services, "page", "page_update") == 3, "no page queued for the capped ones"
    await drain(services)
    assert len(telegram_pager.pages) == pages_before, "nobody's phone rang for them"

    # A real person elsewhere is answered and paged as always, and comes before the flood in the queue.
    data = await say(client, EMERGENCY, address=PERSON)
    assert "Mình đang gọi tư vấn viên" in said(data)
    await drain(services)
    assert len(telegram_pager.pages) == pages_before + 2, "Lan and the staff group"

    rows = await escalations(services)
    assert len(rows) == 8, "every emergency is recorded"
    assert [e.flooded for e in rows] == [False] * 3 + [True] * 4 + [False]
    queue = [item.escalation_id for item in await services.desk.queue()]
    assert set(queue[:4]) == {rows[i].id for i in (0, 1, 2, 7)}, "the real person before the flood"
    assert set(queue[4:]) == {rows[i].id for i in (3, 4, 5, 6)}


async def test_the_console_queue_marks_the_flooded_ones(
    client: httpx.AsyncClient,
    caps: Services,
    rota: dict[str, int],  # noqa: F811
) -> None:
    caps.settings.flood_alerts_per_hour = 1
    await say(client, EMERGENCY, address=FLOODER)
    await say(client, EMERGENCY, address=FLOODER)
    items = await caps.desk.queue()
    assert [(item.kind, item.status, item.flooded) for item in items] == [
        ("emergency", "open", False),
        ("emergency", "open", True),
    ]


async def test_over_the_new_session_cap_a_client_gets_429_with_the_safety_text_and_nothing_is_written(
    client: httpx.AsyncClient, caps: Services, clock: FrozenClock
) -> None:
    services = caps
    sessions = [secrets.token_hex(16) for _ in range(5)]
    for session in sessions:
        await say(client, "PrEP là gì", address=FLOODER, session=session)
    before = await row_counts(services)

    response = await client.post(
        "/api/webchat",
        json={"session": secrets.token_hex(16), "text": EMERGENCY},
        headers={"X-Forwarded-For": FLOODER},
    )
    assert response.status_code == 429
    assert response.headers["retry-after"] == "60"
    body = response.json()
    texts = [r["text"] for r in body["replies"]]
    assert "113" in texts[0] and "115" in texts[0] and "1900 969 680" in texts[0], "Vietnamese"
    assert "113" in texts[1] and "(police)" in texts[1], "and English"
    await assert_nothing_written(services, before)  # no conversation, no count

    # The sessions already open go on; another address is not affected.
    data = await say(client, "PEP là gì", address=FLOODER, session=sessions[0])
    assert data["replies"]
    data = await say(client, EMERGENCY, address=PERSON)
    assert "113" in said(data)

    # The next minute the address may open a few more, up to its hourly cap (8).
    clock.advance(minutes=2)
    for _ in range(3):
        await say(client, "PrEP là gì", address=FLOODER)
    await say(client, "PrEP là gì", address=FLOODER, status=429)


async def test_a_client_cannot_dodge_the_cap_by_writing_x_forwarded_for_itself(
    services: Services, caps: Services
) -> None:
    from bot.web.app import create_app

    app = create_app(services=services, run_dispatcher=False)
    transport = httpx.ASGITransport(app=app, client=(FLOODER, 40000))  # not a trusted proxy
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as direct:
        for n in range(5):
            await say(direct, "PrEP là gì", address=f"10.0.0.{n}")
        await say(direct, "PrEP là gì", address="10.0.0.99", status=429)


async def test_behind_the_proxy_the_address_it_saw_counts_not_what_the_client_wrote(
    client: httpx.AsyncClient, caps: Services
) -> None:
    for n in range(5):
        await say(client, "PrEP là gì", address=f"10.9.9.{n}, {FLOODER}")
    await say(client, "PrEP là gì", address=f"10.9.9.77, {FLOODER}", status=429)
    await say(client, "PrEP là gì", address=f"{FLOODER}, {PERSON}")


async def test_an_ipv6_client_is_one_client_across_its_64(client: httpx.AsyncClient, caps: Services) -> None:
    for n in range(5):
        await say(client, "PrEP là gì", address=f"2001:db8:1:2::{n + 1:x}")
    await say(client, "PrEP là gì", address="2001:db8:1:2:ffff::1", status=429)
    await say(client, "PrEP là gì", address="2001:db8:1:3::1")


async def test_caps_are_logged_and_counted_without_any_address_session_or_key(
    client: httpx.AsyncClient,
    caps: Services,
    rota: dict[str, int],  # noqa: F811
    caplog: pytest.LogCaptureFixture,
) -> None:
    services = caps
    services.settings.flood_alerts_per_hour = 1
    alerts = CAPPED.value(channel="webchat", cap="alert")
    new_sessions = CAPPED.value(channel="webchat", cap="new_session")
    sessions = [secrets.token_hex(16) for _ in range(6)]
    with caplog.at_level(logging.INFO):
        for session in sessions[:5]:
            await say(client, EMERGENCY, address=FLOODER, session=session)
        await say(client, EMERGENCY, address=FLOODER, session=sessions[5], status=429)
    assert CAPPED.value(channel="webchat", cap="alert") == alerts + 4
    assert CAPPED.value(channel="webchat", cap="new_session") == new_sessions + 1
    lines = [r.getMessage() for r in caplog.records if r.name == "bot.engine.floods"]
    assert sum("webchat: alert cap reached" in line for line in lines) == 4
    assert sum("webchat: new-session cap reached" in line for line in lines) == 1
    everything = caplog.text
    async with services.sessionmaker() as session:
        keys = [row.key_hash for row in (await session.execute(select(FloodCount))).scalars()]
    for secret in [FLOODER, *sessions, *keys, services.crypto.user_key("webchat", sessions[0])]:
        assert secret not in everything
    assert "203.0.113" not in everything


async def test_counts_keep_no_address_and_are_purged_when_their_window_is_over(
    client: httpx.AsyncClient, caps: Services, clock: FrozenClock
) -> None:
    await say(client, "PrEP là gì", address=FLOODER)
    async with caps.sessionmaker() as session:
        rows = list((await session.execute(select(FloodCount))).scalars())
    assert len(rows) == 2, "one count a minute, one an hour"
    assert all(FLOODER not in row.key_hash and len(row.key_hash) == 64 for row in rows)
    clock.advance(hours=2, minutes=1)
    counts = await caps.purge()
    assert counts["flood_counts"] == 2


@pytest.fixture
async def uncapped(services: Services) -> AsyncIterator[Services]:
    services.settings.flood_alerts_per_hour = 0
    services.settings.flood_sessions_per_minute = 0
    services.settings.flood_sessions_per_hour = 0
    yield services


async def test_zero_turns_the_caps_off(client: httpx.AsyncClient, uncapped: Services) -> None:
    for _ in range(15):
        await say(client, EMERGENCY, address=FLOODER)
    assert await events(uncapped, "page") == 15


async def test_requests_for_a_counsellor_count_too_and_are_queued_honestly(
    client: httpx.AsyncClient,
    caps: Services,
    rota: dict[str, int],  # noqa: F811
) -> None:
    caps.settings.flood_alerts_per_hour = 1
    first = await say(client, "gặp người thật", address=FLOODER)
    assert "Mình đã báo cho tư vấn viên" in said(first)
    second = await say(client, "gặp người thật", address=FLOODER)
    assert "hàng chờ" in said(second) and "113" in said(second)
    rows = await escalations(caps)
    assert [(e.kind, e.flooded) for e in rows] == [("counsellor", False), ("counsellor", True)]
    assert await events(caps, "page") == 1


async def test_a_person_already_admitted_is_not_looked_up_again(
    client: httpx.AsyncClient, caps: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The caps' check costs a transaction only for a message that may open a conversation: the web
    chat's follow-ups skip it (the engine remembers who it admitted), and are still answered."""
    session = secrets.token_hex(16)
    await say(client, "PrEP là gì", address=PERSON, session=session)
    opened = 0
    sessionmaker = caps.engine.deps.sessionmaker

    def counting() -> Any:
        nonlocal opened
        opened += 1
        return sessionmaker()

    message = InboundMessage(channel="webchat", user_id=session, text="PEP là gì", client_key="k")
    monkeypatch.setattr(caps.engine.deps, "sessionmaker", counting)
    assert await caps.engine.admit(message)
    assert opened == 0
    stranger = InboundMessage(channel="webchat", user_id=secrets.token_hex(16), text="hi", client_key="k")
    assert await caps.engine.admit(stranger)
    assert opened == 1  # a new person is checked against the caps
    monkeypatch.undo()
    data = await say(client, "PEP là gì", address=PERSON, session=session)
    assert data["replies"]
