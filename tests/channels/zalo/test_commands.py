"""``hotline zalo ...`` and ``hotline zalo-oa ...`` against the fake Zalo."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from bot.cli import main
from bot.settings import Settings
from tests.channels.zalo.conftest import BOT_SECRET
from tests.conftest import SECRET
from tests.fakes.zalo_api import FakeZalo


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, settings: Settings, zalo: FakeZalo) -> None:
    for name, value in {
        "HOTLINE_ENV": "test",
        "HOTLINE_SECRET_KEY": SECRET,
        "HOTLINE_DATABASE_URL": settings.database_url,
        "HOTLINE_PUBLIC_URL": "https://hotline.example.org",
        "HOTLINE_ZALO_BOT_TOKEN": zalo.bot_token,
        "HOTLINE_ZALO_BOT_WEBHOOK_SECRET": BOT_SECRET,
        "HOTLINE_ZALO_BOT_API_URL": zalo.url,
        "HOTLINE_ZALO_OA_APP_ID": zalo.app_id,
        "HOTLINE_ZALO_OA_APP_SECRET": zalo.app_secret,
        "HOTLINE_ZALO_OA_ACCESS_TOKEN": "access-0",
        "HOTLINE_ZALO_OA_REFRESH_TOKEN": "refresh-0",
        "HOTLINE_ZALO_OA_OAUTH_URL": zalo.url,
    }.items():
        monkeypatch.setenv(name, value)


@pytest.mark.usefixtures("env")
def test_set_webhook_tells_zalo_the_url_and_the_secret(zalo: FakeZalo) -> None:
    result = CliRunner().invoke(main, ["zalo", "set-webhook"])
    assert result.exit_code == 0, result.output
    assert "https://hotline.example.org/zalo/webhook" in result.output
    (call,) = [c for c in zalo.calls if c.path.endswith("/setWebhook")]
    assert call.json() == {"url": "https://hotline.example.org/zalo/webhook", "secret_token": BOT_SECRET}
    assert BOT_SECRET not in result.output and zalo.bot_token not in result.output


@pytest.mark.usefixtures("env")
def test_a_wrong_bot_token_is_explained(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOTLINE_ZALO_BOT_TOKEN", "1:wrong")
    result = CliRunner().invoke(main, ["zalo", "me"])
    assert result.exit_code == 1
    assert "check HOTLINE_ZALO_BOT_TOKEN" in result.output and "1:wrong" not in result.output


@pytest.mark.usefixtures("env")
def test_set_tokens_then_refresh_uses_the_stored_pair(zalo: FakeZalo) -> None:
    result = CliRunner().invoke(main, ["zalo-oa", "set-tokens"], input="access-7\nrefresh-0\n")
    assert result.exit_code == 0, result.output
    assert "access-7" not in result.output, "typed tokens are not echoed"
    result = CliRunner().invoke(main, ["zalo-oa", "refresh"])
    assert result.exit_code == 0, result.output
    (call,) = zalo.refreshes
    assert call.form()["refresh_token"] == "refresh-0"
    again = CliRunner().invoke(main, ["zalo-oa", "refresh"])
    assert again.exit_code == 0, again.output
    assert [c.form()["refresh_token"] for c in zalo.refreshes] == ["refresh-0", "refresh-1"], (
        "the stored new pair"
    )
