"""`hotline rotate-key console`: every console session ends, and nothing else changes."""

from __future__ import annotations

import httpx
from click.testing import CliRunner
from sqlalchemy import select

from bot.runtime import Services
from bot.store.conversations import transcript
from bot.store.crypto import Crypto
from bot.store.models import Conversation
from bot.store.rotation import rotate_console
from tests.conftest import SECRET
from tests.console.test_console import add_staff, emergency, login


async def test_rotating_the_console_key_ends_every_session_and_nothing_else(
    client: httpx.AsyncClient, services: Services
) -> None:
    await add_staff(services, "lan")
    person = await emergency(client)
    await login(client, "lan")
    assert (await client.get("/console/api/queue")).status_code == 200
    user_key = services.crypto.user_key("webchat", person)
    async with services.sessionmaker() as session:
        conversation = (await session.execute(select(Conversation))).scalar_one()
        lines = await transcript(session, services.crypto, conversation.id)
    encryption = services.crypto.versions.encryption

    version = await rotate_console(services.sessionmaker, Crypto(SECRET.encode()), services.clock)
    assert version == 2
    await services.refresh_keys()  # what every process does every HOTLINE_KEY_REFRESH_SECONDS

    assert (await client.get("/console/api/queue")).status_code == 401, "the session ended"
    assert (await client.get("/console", follow_redirects=False)).status_code == 303
    async with services.sessionmaker() as session:
        assert await transcript(session, services.crypto, conversation.id) == lines, "transcripts still read"
    assert services.crypto.user_key("webchat", person) == user_key, "user keys unchanged"
    assert services.crypto.versions.encryption == encryption
    await login(client, "lan")
    assert (await client.get("/console/api/queue")).status_code == 200, "a new login works"


def test_the_command_rotates_the_console_key(services: Services, monkeypatch: object) -> None:
    from bot.cli import main

    result = CliRunner().invoke(
        main,
        ["--database-url", services.settings.database_url, "rotate-key", "console"],
        env={"HOTLINE_SECRET_KEY": SECRET, "HOTLINE_ENV": "test"},
    )
    assert result.exit_code == 0, result.output
    assert "console key version 2 in use" in result.output
