"""Safety check-ins by phone: set by keys, called back at the time through the (fake) Twilio REST API.

Walked end to end: the fake caller sets the check-in on the menu, the clock is moved to its time, the
outbox places the call with the real ``twilio`` client, and the fake callee answers it (or does not).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import select

from bot.clock import FrozenClock
from bot.engine.content import Content
from bot.nlu import NLU
from bot.runtime import Services, build_services
from bot.settings import Settings
from bot.store.models import Checkin, Escalation, OutboxEvent
from ivr.channel import PhoneLine
from ivr.checkin_call import PLACE_TRIES
from ivr.checkin_dialer import CallbackDialer
from ivr.spoken import clock_words
from tests.fakes.twilio_api import FakeTwilio, Recorded
from tests.fakes.twilio_callee import FakeCallee
from tests.fakes.twilio_caller import FakeCaller, Heard
from tests.ivr.conftest import AUTH_TOKEN, CALLER, HOTLINE, ONCALL, PUBLIC_URL, assert_number_kept_nowhere
from tests.support.db import drain

ASK_VI = "Bấm phím một nếu bạn an toàn, phím hai nếu bạn cần giúp."
ZONE = ZoneInfo("Asia/Ho_Chi_Minh")


@pytest.fixture
def settings(settings: Settings, twilio: FakeTwilio) -> Settings:
    return settings.model_copy(update={"twilio_api_url": twilio.url})


@pytest.fixture
def callee(client: httpx.AsyncClient, clock: FrozenClock, twilio: FakeTwilio) -> Callable[[], FakeCallee]:
    """The person's phone, ringing with the last call the app placed."""

    def ringing() -> FakeCallee:
        calls = twilio.sent("call")
        assert calls, "no call was placed"
        return FakeCallee(client, placed=calls[-1], auth_token=AUTH_TOKEN, public_url=PUBLIC_URL, clock=clock)

    return ringing


def checkin_label(content: Content) -> str:
    """The menu's check-in choice, as the phone reads it."""
    for node in content.flows.nodes.values():
        for choice in node.choices:
            if choice.goto.startswith("checkin.") and node.flow != "checkin":
                return choice.label.vi
    raise AssertionError("no menu choice leads to the check-in flow")


async def set_checkin(caller: FakeCaller, content: Content, key: str = "1") -> Heard:
    """Call, choose Vietnamese, the check-in, then the time with ``key``; hang up."""
    await caller.dial_in()
    await caller.press(caller.key_for("Tiếng Việt"))
    offer = await caller.press(caller.key_for(checkin_label(content)))
    assert "Bấm phím một để hẹn ba mươi phút" in offer.text
    heard = await caller.press(key)
    await caller.hang_up()
    return heard


async def the_checkin(services: Services) -> Checkin:
    async with services.sessionmaker() as session:
        return (await session.execute(select(Checkin))).scalar_one()


async def escalations(services: Services) -> list[Escalation]:
    async with services.sessionmaker() as session:
        return list((await session.execute(select(Escalation).order_by(Escalation.id))).scalars())


async def pages(services: Services) -> list[int | None]:
    async with services.sessionmaker() as session:
        query = select(OutboxEvent.escalation_id).where(OutboxEvent.kind == "page")
        return list((await session.execute(query)).scalars())


@asynccontextmanager
async def restarted_after(
    services: Services, settings: Settings, clock: FrozenClock, nlu: NLU, content: Content, **moved: float
) -> AsyncIterator[Services]:
    """The process stops; the clock moves; another starts on the same database and runs its outbox."""
    await services.close()
    clock.advance(**moved)
    restarted = build_services(settings, clock=clock, nlu=nlu, content=content)
    await restarted.start(dispatcher=False)
    try:
        await drain(restarted)
        yield restarted
    finally:
        await restarted.close()


async def calls_after(
    services: Services, twilio: FakeTwilio, clock: FrozenClock, **moved: float
) -> list[Recorded]:
    """Move the clock, run the outbox; every call placed so far."""
    clock.advance(**moved)
    await drain(services)
    return twilio.sent("call")


async def test_set_by_keys_then_called_back_and_safe(
    phone: Callable[..., FakeCaller],
    callee: Callable[[], FakeCallee],
    services: Services,
    content: Content,
    twilio: FakeTwilio,
    clock: FrozenClock,
    logs: pytest.LogCaptureFixture,
) -> None:
    heard = await set_checkin(phone(), content, "2")
    assert heard.find("Hangup") is not None
    checkin = await the_checkin(services)
    assert checkin.channel == "phone" and checkin.callee_enc is not None and checkin.stage == "set"
    spoken = clock_words(checkin.due_at.astimezone(ZONE).strftime("%H:%M"), "vi")
    assert f"Mình sẽ gọi lại cho bạn lúc {spoken}." in heard.text, "the clock time in Viet Nam"
    assert checkin.due_at - checkin.set_at == timedelta(hours=1), "key two: one hour"
    await assert_number_kept_nowhere(services, logs, CALLER)

    assert await calls_after(services, twilio, clock, minutes=59) == [], "no call before its time"
    [placed] = await calls_after(services, twilio, clock, minutes=1)
    assert (placed.to, placed.sender) == (CALLER, HOTLINE), "the person, from the hotline's number"
    assert placed.url.startswith(f"{PUBLIC_URL}/ivr/checkin-call?")
    assert placed.status_callback.startswith(f"{PUBLIC_URL}/ivr/checkin-status?")

    person = callee()
    assert ASK_VI in (await person.pick_up()).text
    heard = await person.press("1")
    assert "Cuộc hẹn đã kết thúc" in heard.text and heard.find("Hangup") is not None
    assert (await person.ends("completed")).status_code == 204

    checkin = await the_checkin(services)
    assert checkin.stage == "answered"
    assert checkin.callee_enc is None and checkin.call_ref is None, "the number is gone with the check-in"
    assert await calls_after(services, twilio, clock, minutes=40) == [placed], "no second call"
    assert await escalations(services) == []
    await assert_number_kept_nowhere(services, logs, CALLER)


async def test_unanswered_call_back_is_made_again_then_escalated(
    phone: Callable[..., FakeCaller],
    callee: Callable[[], FakeCallee],
    services: Services,
    content: Content,
    twilio: FakeTwilio,
    clock: FrozenClock,
    logs: pytest.LogCaptureFixture,
) -> None:
    await set_checkin(phone(), content, "1")
    [first] = await calls_after(services, twilio, clock, minutes=30)
    first_phone = callee()
    clock.advance(seconds=40)
    assert (await first_phone.ends("no-answer")).status_code == 204
    assert (await the_checkin(services)).stage == "asked"
    assert await calls_after(services, twilio, clock, minutes=9) == [first], (
        "called again only after ten minutes"
    )
    again = await first_phone.ends("no-answer")  # Twilio repeats a callback: counted once
    assert again.status_code == 204
    [_, second] = await calls_after(services, twilio, clock, minutes=1)
    assert second.to == CALLER

    # A voicemail picks up: nobody presses a key, asked twice, then the staff are alerted.
    voicemail = callee()
    await voicemail.pick_up()
    heard = await voicemail.stay_silent()
    assert "Mình chưa nghe thấy bạn bấm phím nào." in heard.said and ASK_VI in heard.text
    heard = await voicemail.stay_silent()
    assert "Mình đang báo cho tư vấn viên trực." in heard.text and heard.find("Hangup") is not None
    await voicemail.ends("completed")

    checkin = await the_checkin(services)
    assert checkin.stage == "escalated"
    assert checkin.callee_enc is None and checkin.call_ref is None
    [escalation] = await escalations(services)
    assert escalation.kind == "emergency" and checkin.escalation_id == escalation.id
    assert await pages(services) == [escalation.id], "paged like any emergency"
    await first_phone.ends("no-answer")  # a late report of the first call changes nothing
    assert await calls_after(services, twilio, clock, minutes=30) == [first, second]
    assert len(await escalations(services)) == 1
    await assert_number_kept_nowhere(services, logs, CALLER)


async def test_unanswered_twice_by_status_alone_is_escalated(
    phone: Callable[..., FakeCaller],
    callee: Callable[[], FakeCallee],
    services: Services,
    content: Content,
    twilio: FakeTwilio,
    clock: FrozenClock,
) -> None:
    await set_checkin(phone(), content, "3")
    assert len(await calls_after(services, twilio, clock, hours=2)) == 1
    await callee().ends("busy")
    assert len(await calls_after(services, twilio, clock, minutes=10)) == 2
    await callee().ends("failed")
    checkin = await the_checkin(services)
    assert checkin.stage == "escalated" and checkin.callee_enc is None
    assert [e.kind for e in await escalations(services)] == ["emergency"]


async def test_key_two_on_the_call_back_is_the_emergency(
    phone: Callable[..., FakeCaller],
    callee: Callable[[], FakeCallee],
    services: Services,
    content: Content,
    twilio: FakeTwilio,
    clock: FrozenClock,
    logs: pytest.LogCaptureFixture,
) -> None:
    await set_checkin(phone(), content, "1")
    await calls_after(services, twilio, clock, minutes=30)
    person = callee()
    await person.pick_up()
    heard = await person.press("2")
    assert "Mình đang nối máy với tư vấn viên trực." in heard.text
    assert person.dialled() == [ONCALL[0]], "the counsellor on call is rung at once"
    [escalation] = await escalations(services)
    assert escalation.kind == "emergency" and escalation.channel == "phone"
    assert escalation.id in await pages(services)
    checkin = await the_checkin(services)
    assert (checkin.stage, checkin.escalation_id) == ("escalated", escalation.id), "over, in the emergency"
    assert checkin.callee_enc is None
    await person.dial_ends("completed", ring_seconds=5, talk_seconds=60)
    await person.ends("completed")
    assert len(await calls_after(services, twilio, clock, minutes=30)) == 1, "no second call"
    assert len(await escalations(services)) == 1
    await assert_number_kept_nowhere(services, logs, CALLER)


async def test_a_withheld_number_cannot_set_a_check_in(
    phone: Callable[..., FakeCaller], services: Services, content: Content
) -> None:
    caller = phone(number="+266696687")  # Twilio's "ANONYMOUS"
    await caller.dial_in()
    await caller.press(caller.key_for("Tiếng Việt"))
    heard = await caller.press(caller.key_for(checkin_label(content)))
    assert "Số của bạn đang bị ẩn nên mình không gọi lại được." in heard.text
    assert "Bạn cần hỗ trợ gì" in heard.text, "back on the menu"
    async with services.sessionmaker() as session:
        assert (await session.execute(select(Checkin))).first() is None


async def test_the_check_in_menu_keys(
    phone: Callable[..., FakeCaller], services: Services, content: Content
) -> None:
    caller = phone()
    await caller.dial_in()
    await caller.press(caller.key_for("Tiếng Việt"))
    offer = await caller.press(caller.key_for(checkin_label(content)))
    assert (await caller.press("*")).said == offer.said, "star repeats"
    heard = await caller.press("7")
    assert heard.said[0] == "Phím này không có trong danh sách." and "ba mươi phút" in heard.text
    heard = await caller.press("#")
    assert "Bạn cần hỗ trợ gì" in heard.text, "hash goes back to the menu"
    async with services.sessionmaker() as session:
        assert (await session.execute(select(Checkin))).first() is None


async def test_twilio_refusing_the_number_counts_as_a_missed_call(
    phone: Callable[..., FakeCaller],
    services: Services,
    content: Content,
    twilio: FakeTwilio,
    clock: FrozenClock,
) -> None:
    await set_checkin(phone(), content, "1")
    twilio.fail("Calls", status=400, times=2)
    await calls_after(services, twilio, clock, minutes=30)
    assert (await the_checkin(services)).stage == "asked", "a second call is due"
    await calls_after(services, twilio, clock, minutes=10)
    checkin = await the_checkin(services)
    assert checkin.stage == "escalated" and checkin.callee_enc is None


async def test_twilio_down_for_long_still_ends_in_a_page(
    phone: Callable[..., FakeCaller],
    services: Services,
    content: Content,
    twilio: FakeTwilio,
    clock: FrozenClock,
) -> None:
    await set_checkin(phone(), content, "1")
    twilio.fail("Calls", status=503, times=100)
    clock.advance(minutes=30)
    for _ in range(PLACE_TRIES):
        assert (await the_checkin(services)).stage == "set", "tried again, not yet counted"
        await calls_after(services, twilio, clock, seconds=31)
    assert (await the_checkin(services)).stage == "asked", "the first call counts as missed"
    clock.advance(minutes=10)
    for _ in range(PLACE_TRIES):
        await calls_after(services, twilio, clock, seconds=31)
    checkin = await the_checkin(services)
    assert checkin.stage == "escalated" and checkin.callee_enc is None
    assert [e.kind for e in await escalations(services)] == ["emergency"]
    assert twilio.sent("call") == []


async def test_twilio_down_places_the_call_later(
    phone: Callable[..., FakeCaller],
    services: Services,
    content: Content,
    twilio: FakeTwilio,
    clock: FrozenClock,
) -> None:
    await set_checkin(phone(), content, "1")
    twilio.fail("Calls", status=503, times=1)
    assert await calls_after(services, twilio, clock, minutes=30) == []
    assert len(await calls_after(services, twilio, clock, minutes=1)) == 1, "tried again through the outbox"


async def test_in_english_the_time_is_said_in_english(
    phone: Callable[..., FakeCaller],
    callee: Callable[[], FakeCallee],
    services: Services,
    content: Content,
    twilio: FakeTwilio,
    clock: FrozenClock,
) -> None:
    caller = phone()
    await caller.dial_in()
    await caller.press(caller.key_for("English"))
    label = next(c.label.en for n in content.flows.nodes.values() if n.flow != "checkin" for c in n.choices
                 if c.goto.startswith("checkin."))  # fmt: skip
    offer = await caller.press(caller.key_for(label))
    assert "Press one for thirty minutes, two for one hour, three for two hours." in offer.text
    heard = await caller.press("3")
    checkin = await the_checkin(services)
    spoken = clock_words(checkin.due_at.astimezone(ZONE).strftime("%H:%M"), "en")
    assert f"I will call you back at {spoken}." in heard.text
    await calls_after(services, twilio, clock, hours=2)
    person = callee()
    assert "Press one if you are safe, two if you need help." in (await person.pick_up()).text


async def test_without_the_rest_api_settings_no_check_in_is_offered(
    phone: Callable[..., FakeCaller], services: Services, content: Content, settings: Settings
) -> None:
    line = services.channels["phone"]
    assert isinstance(line, PhoneLine)
    line.flow.use_dialer(CallbackDialer(settings.model_copy(update={"twilio_account_sid": None}), line.urls))
    caller = phone()
    await caller.dial_in()
    await caller.press(caller.key_for("Tiếng Việt"))
    heard = await caller.press(caller.key_for(checkin_label(content)))
    assert "chưa hẹn giờ được qua điện thoại" in heard.text and "Bạn cần hỗ trợ gì" in heard.text
    async with services.sessionmaker() as session:
        assert (await session.execute(select(Checkin))).first() is None


async def test_a_restart_between_setting_and_the_time_loses_nothing(
    phone: Callable[..., FakeCaller],
    services: Services,
    content: Content,
    twilio: FakeTwilio,
    clock: FrozenClock,
    settings: Settings,
    nlu: NLU,
) -> None:
    await set_checkin(phone(), content, "1")
    async with restarted_after(services, settings, clock, nlu, content, minutes=30):
        [placed] = twilio.sent("call")
        assert placed.to == CALLER


async def test_the_phone_line_switched_off_before_the_time_still_pages(
    phone: Callable[..., FakeCaller],
    services: Services,
    content: Content,
    twilio: FakeTwilio,
    clock: FrozenClock,
    settings: Settings,
    nlu: NLU,
) -> None:
    """The operator removed the Twilio settings (or the line failed to start) after a caller set a
    check-in: nobody can call back, so the timer pages at once instead of waiting for a phone line."""
    await set_checkin(phone(), content, "1")
    off = settings.model_copy(update={"twilio_auth_token": None})
    async with restarted_after(services, off, clock, nlu, content, minutes=30) as restarted:
        assert "phone" not in restarted.channels
        checkin = await the_checkin(restarted)
        assert checkin.stage == "escalated" and checkin.callee_enc is None
        [escalation] = await escalations(restarted)
        assert (escalation.kind, escalation.risk) == ("emergency", "missed_checkin")
        assert await pages(restarted) == [escalation.id]
        assert twilio.sent("call") == []
