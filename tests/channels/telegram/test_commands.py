"""``hotline telegram set-webhook`` and ``webhook-info`` against the fake server; the URL rules."""

from __future__ import annotations

import asyncio
from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result

from bot.cli import main
from bot.cli.telegram import check_webhook_url
from tests.fakes.telegram_api import FakeTelegram

SECRET = "A_good-webhook_secret_42"


def env(telegram: FakeTelegram, tmp_path: Path, **extra: str | None) -> dict[str, str | None]:
    values: dict[str, str | None] = {
        "HOTLINE_ENV": "test",
        "HOTLINE_SECRET_KEY": "k" * 40,
        "HOTLINE_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}",
        "HOTLINE_PUBLIC_URL": "https://hotline.example.org",
        "HOTLINE_TELEGRAM_TOKEN": telegram.token,
        "HOTLINE_TELEGRAM_WEBHOOK_SECRET": SECRET,
        "HOTLINE_TELEGRAM_API_URL": telegram.url,
    }
    values.update(extra)
    return values


async def hotline(args: list[str], environment: dict[str, str | None]) -> Result:
    """Run the CLI in a thread, so this loop keeps serving the fake Telegram server meanwhile."""
    runner = CliRunner()
    return await asyncio.to_thread(runner.invoke, main, args, env=environment, catch_exceptions=False)


async def test_set_webhook_registers_the_url_with_the_secret(telegram: FakeTelegram, tmp_path: Path) -> None:
    result = await hotline(["telegram", "set-webhook"], env(telegram, tmp_path))
    assert result.exit_code == 0, result.output
    assert telegram.webhook == {
        "url": "https://hotline.example.org/telegram/webhook",
        "secret_token": SECRET,
        "allowed_updates": ["message", "callback_query"],
    }
    assert SECRET not in result.output and telegram.token not in result.output

    result = await hotline(
        ["telegram", "set-webhook", "--url", "https://other.example.org:8443/telegram/webhook"],
        env(telegram, tmp_path),
    )
    assert result.exit_code == 0, result.output
    assert telegram.webhook["url"] == "https://other.example.org:8443/telegram/webhook"

    result = await hotline(["telegram", "webhook-info"], env(telegram, tmp_path))
    assert result.exit_code == 0, result.output
    assert "@hotline_test_bot" in result.output and "other.example.org" in result.output


@pytest.mark.parametrize(
    ("secret", "message"),
    [(None, "is not set"), ("spaces are not allowed", "A-Z, a-z, 0-9"), ("x" * 257, "1-256")],
)
async def test_set_webhook_refuses_a_missing_or_malformed_secret(
    telegram: FakeTelegram, tmp_path: Path, secret: str | None, message: str
) -> None:
    result = await hotline(
        ["telegram", "set-webhook"], env(telegram, tmp_path, HOTLINE_TELEGRAM_WEBHOOK_SECRET=secret)
    )
    assert result.exit_code == 1
    assert message in result.output
    assert telegram.calls == []


async def test_commands_say_when_there_is_no_token(telegram: FakeTelegram, tmp_path: Path) -> None:
    for command in (["telegram", "poll"], ["telegram", "set-webhook"], ["telegram", "webhook-info"]):
        result = await hotline(command, env(telegram, tmp_path, HOTLINE_TELEGRAM_TOKEN=None))
        assert result.exit_code == 1
        assert "HOTLINE_TELEGRAM_TOKEN is not set" in result.output


async def test_a_refused_token_is_reported_without_showing_it(telegram: FakeTelegram, tmp_path: Path) -> None:
    wrong = "999:wrong-token"
    result = await hotline(
        ["telegram", "webhook-info"], env(telegram, tmp_path, HOTLINE_TELEGRAM_TOKEN=wrong)
    )
    assert result.exit_code == 1
    assert "Telegram refused" in result.output and wrong not in result.output


def test_webhook_urls_follow_telegrams_rules() -> None:
    assert check_webhook_url("https://h.example.org/telegram/webhook", own_server=False)
    assert check_webhook_url("https://h.example.org:8443/telegram/webhook", own_server=False)
    for bad in ("http://h.example.org/telegram/webhook", "https://h.example.org:8080/x", "h.example.org/x"):
        with pytest.raises(click.BadParameter):
            check_webhook_url(bad, own_server=False)
    assert check_webhook_url("http://10.0.0.5:8080/telegram/webhook", own_server=True)
