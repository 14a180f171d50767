"""After a Telegram conversation, nothing that identifies the person is in the database or the logs."""

from __future__ import annotations

import logging

import httpx
import pytest

from bot.runtime import Services
from tests.channels.telegram.helpers import deliver, post_update
from tests.fakes.telegram_api import FakeTelegram
from tests.support.db import dump_database

CHAT = 864_209_753
NAME = "Zyxwvutsrq"
USERNAME = "hidden_user_4711"
QUESTION = "toi lo lang ve xet nghiem HIV o quan tam binh"


async def test_no_chat_id_name_username_or_text_is_kept_or_logged(
    client: httpx.AsyncClient, services: Services, telegram: FakeTelegram, caplog: pytest.LogCaptureFixture
) -> None:
    for name in (None, "aiogram", "aiogram.event", "bot"):  # `hotline` commands quieten some
        caplog.set_level(logging.DEBUG, logger=name)
    who = {"first_name": NAME, "username": USERNAME}
    updates = [
        telegram.text_update(CHAT, "/start", **who),
        None,  # a tap on "Tiếng Việt", once the keyboard is there
        telegram.text_update(CHAT, QUESTION, **who),
        telegram.sticker_update(CHAT, **who),
    ]
    for update in updates:
        update = update or telegram.tap(CHAT, "Tiếng Việt", **who)
        response = await post_update(client, update)
        assert response.status_code == 200
        await deliver(services)
    assert len(telegram.sent(CHAT)) >= 5

    telegram.fail_next("sendMessage", status=429, retry_after=1)
    await post_update(client, telegram.text_update(CHAT, "menu", **who))
    await deliver(services)  # a 429 is recorded in the outbox, without the chat id

    dump = await dump_database(services, files=True)
    logs = caplog.text + "\n".join(str(r.args) for r in caplog.records)
    for secret in (str(CHAT), NAME, USERNAME, QUESTION, "xet nghiem"):
        assert secret not in dump, f"{secret!r} is in the database"
        assert secret not in logs, f"{secret!r} is in the logs"
    assert "telegram" in dump and "gAAAA" in dump, "the dump holds the conversation, encrypted"
    assert any(r.name.startswith("aiogram") for r in caplog.records), "the logs were captured"
