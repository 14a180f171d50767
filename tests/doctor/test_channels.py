"""``hotline doctor`` against the fake Telegram, Zalo and Twilio: each check passing and failing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.doctor import Status
from tests.doctor.conftest import NOW
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.twilio_api import FakeTwilio
from tests.fakes.zalo_api import FakeZalo
from tests.support.server import free_port

Make = Callable[..., Any]


async def test_every_channel_ok(configured: Make, doctor: Make, add_shift: Make) -> None:
    await add_shift("Lan", -1, 25)
    found = await doctor(configured())
    assert {what: f.status for what, f in found.items() if f.status is not Status.OK} == {}
    assert "@hotline_test_bot" in found["Telegram token"].detail
    assert "/telegram/webhook" in found["Telegram webhook"].detail
    assert "/ivr/voice" in found["Twilio number"].detail
    assert "Đường dây nóng" in found["Messenger token"].detail


async def test_channels_not_configured_are_skipped_not_problems(
    configured: Make, doctor: Make, add_shift: Make
) -> None:
    await add_shift("Lan", -1, 25, telegram=None, phone="+84901234567")
    found = await doctor(
        configured(
            telegram_token=None,
            zalo_bot_token=None,
            zalo_oa_app_id=None,
            twilio_auth_token=None,
            messenger_page_token=None,
        )
    )
    for what in ("Telegram", "Zalo Bot", "Zalo OA", "Messenger", "Twilio"):
        assert found[what].status is Status.SKIPPED
        assert found[what].detail == "not configured"
    # nobody on call can be paged any more: no route works without Telegram or Twilio
    assert found["page routes"].status is Status.PROBLEM


async def test_telegram_bad_token(configured: Make, doctor: Make) -> None:
    found = await doctor(configured(telegram_token="424242:AAwrong-token_0123456789abcdefgh"))
    assert found["Telegram token"].status is Status.PROBLEM
    assert "refused the token" in found["Telegram token"].detail
    assert "@BotFather" in found["Telegram token"].fix
    assert "Telegram webhook" not in found  # nothing more can be asked with a refused token
    assert found["Zalo Bot token"].status is Status.OK  # the others go on


async def test_telegram_webhook_unset(configured: Make, doctor: Make, telegram: FakeTelegram) -> None:
    telegram.webhook = {}
    found = await doctor(configured())
    assert found["Telegram webhook"].status is Status.PROBLEM
    assert "none is set" in found["Telegram webhook"].detail
    assert "hotline telegram set-webhook" in found["Telegram webhook"].fix


async def test_telegram_webhook_elsewhere(configured: Make, doctor: Make, telegram: FakeTelegram) -> None:
    telegram.webhook = {"url": "https://old-server.example.org/telegram/webhook"}
    found = await doctor(configured())
    webhook = found["Telegram webhook"]
    assert webhook.status is Status.PROBLEM
    assert "https://old-server.example.org/telegram/webhook" in webhook.detail
    assert "hotline telegram set-webhook" in webhook.fix


async def test_telegram_webhook_without_our_secret(configured: Make, doctor: Make) -> None:
    found = await doctor(configured(telegram_webhook_secret=None))
    assert found["Telegram webhook"].status is Status.PROBLEM
    assert "HOTLINE_TELEGRAM_WEBHOOK_SECRET is not set" in found["Telegram webhook"].detail


async def test_telegram_last_error_recent_is_a_problem(
    configured: Make, doctor: Make, telegram: FakeTelegram
) -> None:
    telegram.webhook_status = {
        "last_error_date": int(NOW.timestamp()) - 120,
        "last_error_message": "Wrong response from the webhook: 403 Forbidden",
    }
    found = await doctor(configured())
    delivery = found["Telegram delivery"]
    assert delivery.status is Status.PROBLEM
    assert "failed 2 min ago" in delivery.detail and "403" in delivery.detail
    assert "secret" in delivery.fix  # a 403 from our webhook: the secret differs


async def test_telegram_old_error_is_history(configured: Make, doctor: Make, telegram: FakeTelegram) -> None:
    telegram.webhook_status = {
        "last_error_date": int(NOW.timestamp()) - 3 * 3600,
        "last_error_message": "Connection timed out",
    }
    found = await doctor(configured())
    assert "Telegram delivery" not in found


async def test_telegram_updates_piling_up(configured: Make, doctor: Make, telegram: FakeTelegram) -> None:
    telegram.queue(*(telegram.text_update(1000 + n, "hello") for n in range(25)))
    found = await doctor(configured())
    assert found["Telegram queue"].status is Status.PROBLEM
    assert "25 messages wait" in found["Telegram queue"].detail


async def test_staff_group_missing(configured: Make, doctor: Make) -> None:
    found = await doctor(configured(telegram_staff_chat_id=None))
    assert found["staff group"].status is Status.PROBLEM
    assert "HOTLINE_TELEGRAM_STAFF_CHAT_ID" in found["staff group"].detail


async def test_zalo_bot_bad_token(configured: Make, doctor: Make) -> None:
    found = await doctor(configured(zalo_bot_token="3141592653:not-the-token"))
    assert found["Zalo Bot token"].status is Status.PROBLEM
    assert "HOTLINE_ZALO_BOT_TOKEN" in found["Zalo Bot token"].fix


async def test_zalo_oa_refused_token(configured: Make, doctor: Make, zalo: FakeZalo) -> None:
    zalo.expire("access-0")
    found = await doctor(configured())
    oa = found["Zalo OA token"]
    assert oa.status is Status.PROBLEM
    assert "-216" in oa.detail
    assert "hotline zalo-oa refresh" in oa.fix
    assert not zalo.refreshes  # the doctor never spends the refresh token


async def test_messenger_refused_token(configured: Make, doctor: Make) -> None:
    found = await doctor(configured(messenger_page_token="EAA-not-the-token"))
    token = found["Messenger token"]
    assert token.status is Status.PROBLEM and "refused" in token.detail
    assert "HOTLINE_MESSENGER_PAGE_TOKEN" in token.fix and "EAA-not-the-token" not in token.detail + token.fix


async def test_twilio_bad_credentials(configured: Make, doctor: Make) -> None:
    found = await doctor(configured(twilio_auth_token="not-the-auth-token"))
    account = found["Twilio account"]
    assert account.status is Status.PROBLEM
    assert "401" in account.detail
    assert "HOTLINE_TWILIO_AUTH_TOKEN" in account.fix
    assert "Twilio number" not in found


async def test_twilio_wrong_voice_url(configured: Make, doctor: Make, twilio: FakeTwilio) -> None:
    from tests.doctor.conftest import HOTLINE_NUMBER

    twilio.numbers[HOTLINE_NUMBER] = "https://demo.twilio.com/welcome/voice/"
    found = await doctor(configured())
    number = found["Twilio number"]
    assert number.status is Status.PROBLEM
    assert "https://demo.twilio.com/welcome/voice/" in number.detail
    assert "/ivr/voice" in number.fix


async def test_twilio_number_not_in_the_account(configured: Make, doctor: Make) -> None:
    found = await doctor(configured(twilio_caller_id="+842899999999"))
    assert found["Twilio number"].status is Status.PROBLEM
    assert "not a number of this Twilio account" in found["Twilio number"].detail


async def test_public_url_down(configured: Make, doctor: Make) -> None:
    down = f"http://127.0.0.1:{free_port()}"
    found = await doctor(configured(public_url=down))
    assert found["public URL"].status is Status.PROBLEM
    assert f"{down}/healthz does not answer" in found["public URL"].detail
    # Telegram and Twilio are now compared with the new URL: both point elsewhere
    assert found["Telegram webhook"].status is Status.PROBLEM
    assert found["Twilio number"].status is Status.PROBLEM
