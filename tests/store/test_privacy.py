"""Privacy by construction: after a conversation, the raw ids used are nowhere in the database or logs."""

from __future__ import annotations

import logging
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from bot.messages import InboundMessage
from bot.runtime import Services
from bot.store.models import Conversation, Message
from tests.support.db import dump_database

RAW_SESSION = "PRIVATE0SESSION0ID0abcdef123456"
RAW_PHONE = "+84912345678"
SECRET_TEXT = "toi ten la Nguyen Thi Hoa, so dien thoai 0912345678"


async def test_raw_ids_and_text_are_not_in_the_database_or_logs(
    client: httpx.AsyncClient, services: Services, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    await client.post("/api/webchat", json={"session": RAW_SESSION, "event": "start"})
    await client.post("/api/webchat", json={"session": RAW_SESSION, "text": SECRET_TEXT})
    await client.post("/api/webchat", json={"session": RAW_SESSION, "text": "cuu em voi, ck dang danh em"})
    await services.engine.handle(
        InboundMessage(
            "telephone-test", RAW_PHONE, text="bao cao su bi rach", address=RAW_PHONE, session_id="CA1"
        )
    )
    dump = await dump_database(services)
    for raw in (RAW_SESSION, RAW_PHONE, "0912345678", "Nguyen Thi Hoa", "dang danh"):
        assert raw not in dump, f"{raw!r} is stored in clear"
        assert raw not in caplog.text, f"{raw!r} was logged"
    if services.settings.is_sqlite:
        path = Path(services.settings.database_url.split(":///", 1)[1])
        for file in path.parent.glob(path.name + "*"):  # the database and its WAL
            data = file.read_bytes()
            for raw in (RAW_SESSION, RAW_PHONE, "Nguyen Thi Hoa"):
                assert raw.encode() not in data, f"{raw!r} is in {file.name}"
    # ...and yet the service can still read its own transcript and reply address.
    async with services.sessionmaker() as session:
        conversation = (
            await session.execute(select(Conversation).where(Conversation.channel == "telephone-test"))
        ).scalar_one()
        assert services.crypto.decrypt(conversation.address_enc or "") == RAW_PHONE
        bodies = [
            services.crypto.decrypt(m.body_enc) for m in (await session.execute(select(Message))).scalars()
        ]
        assert SECRET_TEXT in bodies
