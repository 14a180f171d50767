"""Building the bot from settings: token and secret checks, another Bot API server, errors the outbox understands."""

from __future__ import annotations

import pytest
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.methods import SendMessage
from pydantic import SecretStr

from bot.channels.telegram.client import (
    TelegramClient,
    TelegramUnavailable,
    build_bot,
    outbox_error,
    webhook_secret,
)
from bot.engine.content import Content
from bot.errors import ConfigError
from bot.nlu import NLU
from bot.outbox.dispatcher import GiveUp, Retry
from bot.runtime import build_services
from bot.settings import Settings
from tests.fakes.telegram_api import FakeTelegram


@pytest.fixture
def plain(telegram: FakeTelegram) -> Settings:
    """Settings with the channel on, without a database (these tests need none)."""
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        env="test",
        secret_key=SecretStr("x" * 40),
        telegram_token=SecretStr(telegram.token),
        telegram_webhook_secret=SecretStr("secret"),
        telegram_api_url=telegram.url,
    )


def with_telegram(settings: Settings, **values: object) -> Settings:
    return settings.model_copy(update=values)


async def test_the_channel_is_on_with_a_token_and_off_without(
    settings: Settings, nlu: NLU, content: Content
) -> None:
    for token, on in ((settings.telegram_token, True), (None, False)):
        services = build_services(with_telegram(settings, telegram_token=token), nlu=nlu, content=content)
        try:
            assert ("telegram" in services.channels) is on
            assert ("telegram" in services.engine.deps.push_channels) is on
        finally:
            await services.close()


@pytest.mark.parametrize("token", ["", "no-colon", "abc:def", "123:", "123: spaced"])
def test_a_malformed_token_is_a_clear_config_error(plain: Settings, token: str) -> None:
    with pytest.raises(ConfigError, match="HOTLINE_TELEGRAM_TOKEN"):
        build_bot(with_telegram(plain, telegram_token=SecretStr(token)))


def test_no_token_is_a_clear_config_error(plain: Settings) -> None:
    with pytest.raises(ConfigError, match="@BotFather"):
        build_bot(with_telegram(plain, telegram_token=None))


@pytest.mark.parametrize("secret", ["has space", "ümlaut", "a" * 257, "semi;colon", ""])
def test_a_webhook_secret_telegram_would_refuse_is_a_config_error(plain: Settings, secret: str) -> None:
    with pytest.raises(ConfigError, match="token_urlsafe"):
        webhook_secret(with_telegram(plain, telegram_webhook_secret=SecretStr(secret)))


def test_a_good_secret_passes_and_none_means_webhook_off(plain: Settings) -> None:
    assert (
        webhook_secret(with_telegram(plain, telegram_webhook_secret=SecretStr("A-z_09" * 40)))
        == "A-z_09" * 40
    )
    assert webhook_secret(with_telegram(plain, telegram_webhook_secret=None)) is None


async def test_the_bot_talks_to_the_configured_api_server(plain: Settings, telegram: FakeTelegram) -> None:
    bot = build_bot(plain)
    try:
        me = await bot.get_me()
    finally:
        await bot.session.close()
    assert me.username == "hotline_test_bot"
    assert [c.method for c in telegram.calls] == ["getMe"]


async def test_errors_come_out_as_what_the_outbox_does_with_them(
    plain: Settings, telegram: FakeTelegram
) -> None:
    client = TelegramClient(build_bot(plain))
    try:
        telegram.fail_next("sendMessage", status=429, retry_after=9)
        with pytest.raises(Retry) as retry:
            await client.send_text(123456789, "hi")
        assert retry.value.after == 9
        telegram.fail_next("sendMessage", status=403)
        with pytest.raises(GiveUp, match="blocked"):
            await client.send_text(123456789, "hi")
        telegram.fail_next("sendMessage", status=400, description="Bad Request: chat 123456789 not found")
        with pytest.raises(GiveUp) as gave_up:
            await client.send_text(123456789, "hi")
        assert "123456789" not in str(gave_up.value), "no chat id in what is logged or stored"
        telegram.fail_next("sendMessage", status=502)
        with pytest.raises(TelegramUnavailable):
            await client.send_text(123456789, "hi")
    finally:
        await client.close()


def test_unknown_failures_are_tried_again() -> None:
    method = SendMessage(chat_id=1, text="x")
    assert isinstance(outbox_error(TelegramServerError(method, "Internal")), TelegramUnavailable)
    assert isinstance(outbox_error(TelegramRetryAfter(method, "Too Many", 3)), Retry)
    assert isinstance(outbox_error(TelegramForbiddenError(method, "Forbidden")), GiveUp)
    assert isinstance(outbox_error(TelegramBadRequest(method, "Bad")), GiveUp)
