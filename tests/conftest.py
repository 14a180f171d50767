"""Shared fixtures: real databases (SQLite always, PostgreSQL when reachable), real content, a frozen clock.

Every test that takes ``services`` runs twice: on SQLite and on PostgreSQL. PostgreSQL is the local
server (127.0.0.1:5432) or ``HOTLINE_TEST_DATABASE_URL``; a fresh database is created for the run and
dropped after it. In CI (``CI`` set) an unreachable PostgreSQL is a failure, not a skip.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from bot.clock import FrozenClock
from bot.engine.content import Content, load_content
from bot.nlu import NLU, build_nlu
from bot.runtime import Services, build_services
from bot.settings import ROOT, Settings
from bot.store.migrate import upgrade
from tests.fakes.graph_api import FakeGraph
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.twilio_api import FakeTwilio
from tests.fakes.zalo_api import FakeZalo

SECRET = "test-secret-key-0123456789-abcdefghijklmnop"
PG_ADMIN = os.environ.get(
    "HOTLINE_TEST_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
)


def _pg_admin_dsn() -> str:
    return PG_ADMIN.replace("postgresql+asyncpg://", "postgresql://")


async def _pg_execute(sql: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(_pg_admin_dsn(), timeout=3)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


def _pg_reachable() -> bool:
    try:
        asyncio.run(_pg_execute("SELECT 1"))
    except Exception:
        return False
    return True


@pytest.fixture(scope="session")
def content() -> Content:
    return load_content(ROOT / "flows", ROOT / "knowledge")


@pytest.fixture(scope="session")
def nlu() -> NLU:
    # the model `make test` trained (`hotline train`), loaded; trained here only if it is missing or stale
    return build_nlu(ROOT / "knowledge", model_dir=ROOT / "var" / "models")


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("db") / "template.db"
    upgrade(f"sqlite+aiosqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str | None]:
    if not _pg_reachable():
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is not reachable at {PG_ADMIN}; CI must test on PostgreSQL")
        yield None
        return
    name = f"hotline_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    asyncio.run(_pg_execute(f'CREATE DATABASE "{name}"'))
    base = PG_ADMIN.rsplit("/", 1)[0]
    url = f"{base}/{name}"
    try:
        upgrade(url)
        yield url
    finally:
        asyncio.run(_pg_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _truncate(url: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        tables = await connection.fetch(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'alembic_version'"
        )
        names = ", ".join(f'"{row["tablename"]}"' for row in tables)
        # A connection an earlier test left in a transaction (a task cancelled mid-query) would make
        # TRUNCATE wait for its locks forever: end such connections first, and never wait long for a lock.
        await connection.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        await connection.execute("SET lock_timeout = '20s'")
        await connection.execute(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
    finally:
        await connection.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        path = tmp_path / "hotline.db"
        shutil.copy(template, path)
        yield f"sqlite+aiosqlite:///{path}"
        return
    url = request.getfixturevalue("pg_url")
    if url is None:
        pytest.skip("PostgreSQL is not reachable here")
    asyncio.run(_truncate(url))
    yield url


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock()


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        env="test",
        database_url=database_url,
        secret_key=SECRET,  # type: ignore[arg-type]
        secret_key_file=tmp_path / "secret",
    )


@pytest.fixture
async def services(
    settings: Settings, clock: FrozenClock, nlu: NLU, content: Content
) -> AsyncIterator[Services]:
    built = build_services(settings, clock=clock, nlu=nlu, content=content)
    await built.start(dispatcher=False)
    try:
        yield built
    finally:
        await built.close()


@pytest.fixture
async def client(services: Services) -> AsyncIterator[httpx.AsyncClient]:
    from bot.web.app import create_app

    app = create_app(services=services, run_dispatcher=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


# -- the fake platforms on loopback, for every test folder that turns a channel on ---------------------
# Each is a tests.fakes.base.FakeServer: its own loop in a thread, so sync, async and subprocess tests
# share one lifecycle; a folder that needs one set up differently overrides the fixture by its name.


@pytest.fixture
async def telegram() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram(max_poll_wait=0.2) as fake:
        yield fake


@pytest.fixture
def zalo() -> Iterator[FakeZalo]:
    with FakeZalo() as fake:
        yield fake


@pytest.fixture
def twilio() -> Iterator[FakeTwilio]:
    with FakeTwilio() as fake:
        yield fake


@pytest.fixture
def graph() -> Iterator[FakeGraph]:
    with FakeGraph() as fake:
        yield fake
