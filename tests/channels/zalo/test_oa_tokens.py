"""The OA access token: refreshed once when Zalo says it expired (-216), kept encrypted across restarts."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy import select

from bot.channels.zalo.oa import ZaloOa
from bot.clock import FrozenClock
from bot.engine.content import Content
from bot.nlu import NLU
from bot.runtime import Services, build_services
from bot.settings import Settings
from bot.store.models import OutboxEvent, StoredSecret
from tests.channels.zalo.conftest import drain, oa_event, post_oa
from tests.fakes.zalo_api import FakeZalo
from tests.support.db import dump_database


def oa(services: Services) -> ZaloOa:
    channel = services.channels["zalo_oa"]
    assert isinstance(channel, ZaloOa)
    return channel


async def write(
    client: httpx.AsyncClient, zalo: FakeZalo, clock: FrozenClock, text: str, msg_id: str
) -> None:
    event = oa_event(text, msg_id=msg_id, clock=clock, app_id=zalo.app_id)
    assert (await post_oa(client, event, app_id=zalo.app_id)).status_code == 200


@pytest.fixture
async def restarted(
    settings: Settings, clock: FrozenClock, nlu: NLU, content: Content
) -> AsyncIterator[Services]:
    """A second process on the same database (or the same service after a restart)."""
    built = build_services(settings, clock=clock, nlu=nlu, content=content)
    await built.start(dispatcher=False)
    try:
        yield built
    finally:
        await built.close()


async def test_an_expired_token_is_refreshed_once_and_the_message_still_goes_out(
    client: httpx.AsyncClient, services: Services, zalo: FakeZalo, clock: FrozenClock,
    restarted: Services,
) -> None:  # fmt: skip
    zalo.expire("access-0")
    await write(client, zalo, clock, "PrEP là gì", "m1")
    await drain(services)
    assert len(zalo.oa_sent) == 1 and "PrEP" in zalo.oa_sent[0][1], "the message still went out"
    assert len(zalo.refreshes) == 1
    form = zalo.refreshes[0].form()
    assert form == {"app_id": zalo.app_id, "grant_type": "refresh_token", "refresh_token": "refresh-0"}
    assert zalo.refreshes[0].headers["secret_key"] == zalo.app_secret
    tries = [c.headers["access_token"] for c in zalo.calls if c.path == "/v3.0/oa/message/cs"]
    assert tries == ["access-0", "access-1"], "one refused try, one refresh, one resend"

    async with services.sessionmaker() as session:
        row = (await session.execute(select(StoredSecret))).scalar_one()
        assert row.name == "zalo_oa_tokens"
    dump = await dump_database(services)
    assert "access-1" not in dump and "refresh-1" not in dump, "the new pair is stored encrypted"

    # After a restart (a new process, the same settings) the new pair is used, without refreshing again.
    assert oa(restarted).tokens is not oa(services).tokens
    assert (await oa(restarted).tokens.current()).access_token.get_secret_value() == "access-1"
    clock.advance(minutes=1)
    await write(client, zalo, clock, "PEP là gì", "m2")
    await drain(restarted)
    tries = [c.headers["access_token"] for c in zalo.calls if c.path == "/v3.0/oa/message/cs"]
    assert tries[-1] == "access-1" and len(zalo.oa_sent) == 2
    assert len(zalo.refreshes) == 1


async def test_two_refreshes_at_once_spend_the_refresh_token_once(services: Services, zalo: FakeZalo) -> None:
    zalo.expire("access-0")
    tokens = oa(services).tokens
    stale = SecretStr("access-0")
    pairs = await asyncio.gather(tokens.refresh(stale), tokens.refresh(stale), tokens.refresh(stale))
    assert {p.access_token.get_secret_value() for p in pairs} == {"access-1"}
    assert len(zalo.refreshes) == 1


async def test_two_processes_refreshing_at_once_spend_the_refresh_token_once(
    services: Services, restarted: Services, zalo: FakeZalo
) -> None:
    if services.settings.is_sqlite:
        pytest.skip("SQLite runs one process; across processes the row lock is PostgreSQL's")
    zalo.expire("access-0")
    stale = SecretStr("access-0")
    pairs = await asyncio.gather(oa(services).tokens.refresh(stale), oa(restarted).tokens.refresh(stale))
    assert {p.access_token.get_secret_value() for p in pairs} == {"access-1"}
    assert len(zalo.refreshes) == 1


async def test_a_new_pair_in_the_settings_wins_over_the_stored_one(
    services: Services, zalo: FakeZalo, clock: FrozenClock, nlu: NLU, content: Content
) -> None:
    zalo.expire("access-0")
    await oa(services).tokens.refresh(SecretStr("access-0"))
    operator = services.settings.model_copy(
        update={
            "zalo_oa_access_token": SecretStr("access-9"),
            "zalo_oa_refresh_token": SecretStr("refresh-9"),
        }
    )
    later = build_services(operator, clock=clock, nlu=nlu, content=content)
    try:
        assert (await oa(later).tokens.current()).access_token.get_secret_value() == "access-9"
    finally:
        await later.close()


async def test_a_refused_refresh_token_keeps_the_message_and_says_what_to_do(
    client: httpx.AsyncClient, services: Services, zalo: FakeZalo, clock: FrozenClock,
    caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    zalo.expire("access-0")
    zalo.refresh_tokens["refresh-0"] = True  # spent elsewhere
    await write(client, zalo, clock, "PrEP là gì", "m1")
    await drain(services)
    assert zalo.oa_sent == []
    async with services.sessionmaker() as session:
        event = (await session.execute(select(OutboxEvent).where(OutboxEvent.kind == "deliver"))).scalar_one()
        assert event.status == "pending" and event.last_error == "no working OA access token"
    assert any(
        r.levelno == logging.ERROR and "hotline zalo-oa set-tokens" in r.getMessage() for r in caplog.records
    ), "the operator is told what to do"
