"""LISTEN/NOTIFY (bot/store/notify.py): announced at commit, never on rollback, listened to again after a drop."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest
from sqlalchemy import make_url

from bot.runtime import Services
from bot.store import notify
from bot.store.notify import OUTBOX, WEBCHAT, Listener
from bot.store.outbox import enqueue


def postgresql_only(services: Services) -> None:
    if services.listener is None:
        assert services.settings.is_sqlite, "PostgreSQL listens unless HOTLINE_NOTIFY_ENABLED=false"
        pytest.skip("SQLite is one process: the in-process wake-ups are all there is")


async def write(services: Services, kind: str, *, commit: bool = True) -> None:
    async with services.sessionmaker() as session, session.begin():
        await enqueue(session, services.crypto, kind=kind, payload={"n": 1}, now=services.clock.now())
        if not commit:
            await session.rollback()


async def listening(services: Services) -> Listener:
    listener = services.listener
    assert listener is not None
    up = asyncio.Event()
    listener.subscribe(OUTBOX, lambda: None, on_state=lambda now: up.set() if now else None)
    async with asyncio.timeout(10):
        await up.wait()
    return listener


async def test_a_committed_row_is_announced_on_its_channel_and_a_rolled_back_one_never(
    services: Services,
) -> None:
    postgresql_only(services)
    listener = await listening(services)
    heard: dict[str, asyncio.Queue[None]] = {OUTBOX: asyncio.Queue(), WEBCHAT: asyncio.Queue()}
    listener.subscribe(OUTBOX, lambda: heard[OUTBOX].put_nowait(None))
    listener.subscribe(WEBCHAT, lambda: heard[WEBCHAT].put_nowait(None))

    await write(services, "page", commit=False)
    await write(services, "page")
    await write(services, "inbox")
    async with asyncio.timeout(5):
        await heard[OUTBOX].get()
        await heard[WEBCHAT].get()
    # Notifications come in commit order: the rolled-back write would have arrived before these.
    assert heard[OUTBOX].empty() and heard[WEBCHAT].empty()


async def test_the_payload_is_empty(services: Services) -> None:
    """Nothing about a person or a message travels in a notification (another listener's view)."""
    postgresql_only(services)
    url = make_url(services.settings.database_url).set(drivername="postgresql")
    connection = await asyncpg.connect(url.render_as_string(hide_password=False))
    payloads: asyncio.Queue[tuple[str, str]] = asyncio.Queue()
    try:
        for channel in (OUTBOX, WEBCHAT):
            await connection.add_listener(
                channel, lambda _c, _p, ch, payload: payloads.put_nowait((ch, payload))
            )
        await write(services, "inbox")
        await write(services, "deliver")
        async with asyncio.timeout(5):
            got = {await payloads.get(), await payloads.get()}
        assert got == {(WEBCHAT, ""), (OUTBOX, "")}
    finally:
        await connection.close()


async def test_a_dropped_listening_connection_is_replaced_and_polling_covers_the_gap(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    postgresql_only(services)
    monkeypatch.setattr(notify, "BACKOFF_SECONDS", (0.1,))
    listener = await listening(services)
    states: asyncio.Queue[bool] = asyncio.Queue()
    woken: asyncio.Queue[None] = asyncio.Queue()
    listener.subscribe(OUTBOX, lambda: woken.put_nowait(None), on_state=states.put_nowait)
    assert states.get_nowait() is True

    url = make_url(services.settings.database_url).set(drivername="postgresql")
    admin = await asyncpg.connect(url.render_as_string(hide_password=False))
    try:
        killed = await admin.fetchval(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND query LIKE 'LISTEN%'"
        )
        assert killed == 1
        async with asyncio.timeout(10):
            dropped, back = await states.get(), await states.get()
        assert (dropped, back) == (False, True), "dropped (the bell polls often), then listening again"
        # Back: it looked at once for what may have been written meanwhile, and hears new writes.
        async with asyncio.timeout(5):
            await woken.get()
        while not woken.empty():
            woken.get_nowait()
        await write(services, "page")
        async with asyncio.timeout(5):
            await woken.get()
    finally:
        await admin.close()


async def test_sqlite_and_turned_off_have_no_listener(services: Services) -> None:
    from bot.runtime import build_services

    off = build_services(
        services.settings.model_copy(update={"notify_enabled": False}),
        clock=services.clock,
        nlu=services.nlu,
        content=services.content,
    )
    try:
        assert off.listener is None
    finally:
        await off.db.dispose()
    if services.settings.is_sqlite:
        assert services.listener is None
