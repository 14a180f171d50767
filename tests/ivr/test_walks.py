"""Calls walked end to end by the fake caller; the statistics rows must match each walk exactly."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.runtime import Services
from bot.store.models import Checkin, Contact, Escalation, OutboxEvent
from tests.fakes.twilio_caller import FakeCaller
from tests.ivr.conftest import CALLER, HOTLINE, ONCALL, assert_number_kept_nowhere
from tests.support.db import count

FOOTER_VI = "Bấm phím sao để nghe lại, phím không để gặp tư vấn viên, phím chín nếu bạn đang gặp nguy hiểm."


async def only_contact(services: Services) -> Contact:
    async with services.sessionmaker() as session:
        return (await session.execute(select(Contact))).scalar_one()


async def rows(services: Services, model: type[Any], *where: Any) -> list[Any]:
    async with services.sessionmaker() as session:
        return list((await session.execute(select(model).where(*where).order_by(model.id))).scalars())


async def test_menu_to_an_hiv_answer_repeat_and_hang_up(
    phone: Callable[..., FakeCaller], services: Services, logs: pytest.LogCaptureFixture
) -> None:
    caller = phone()
    heard = await caller.dial_in()
    assert "ẩn danh" in heard.text, "the welcome says the line is anonymous"
    gather = heard.find("Gather")
    assert gather is not None and gather.attrib["input"] == "dtmf" and gather.attrib["numDigits"] == "1"
    say = heard.find("Say")
    assert say is not None and say.attrib["voice"] == "Google.vi-VN-Standard-A"
    assert heard.said[-1] == FOOTER_VI, "every menu ends with star, zero and nine"

    heard = await caller.press(caller.key_for("Tiếng Việt"))
    assert "Bạn cần hỗ trợ gì" in heard.text
    assert "Bấm phím một để chọn HIV và bệnh tình dục." in heard.said

    heard = await caller.press(caller.key_for("HIV và bệnh tình dục"))
    assert "Bấm phím tám để nghe thêm lựa chọn." in heard.said, "nine articles and a way back: two pages"
    heard = await caller.press(caller.key_for("Xét nghiệm HIV"))
    answer = services.content.knowledge.articles["hiv-testing"].voice.vi
    assert heard.said[0] == answer, "the answer is the article's short spoken text"
    assert "Thông tin này có giúp được bạn không?" in heard.said
    assert heard.said[-1] == FOOTER_VI

    again = await caller.press("*")
    assert again.said == heard.said, "star repeats the answer and the menu, word for word"

    response = await caller.hang_up()
    assert response.status_code == 204

    contact = await only_contact(services)
    assert contact.channel == "phone"
    assert contact.started_at == caller.started
    assert contact.ended_at == caller.started + timedelta(seconds=20)
    assert contact.call_status == "completed"
    assert contact.menu_path == [
        "welcome.start",
        "welcome.language",
        "welcome.set_vi",
        "main.menu",
        "topics.hiv_sti",
        "feedback.ask",
    ]
    assert contact.topics == ["hiv_sti"]
    assert contact.articles == ["hiv-testing"]
    assert contact.message_count == 4, "the repeat is not a new message"
    assert contact.locale == "vi"
    assert contact.emergency is False
    assert contact.dial_outcome is None
    assert contact.counsellor_answer_seconds is None
    assert contact.callback_requested is False
    assert contact.abandoned is False
    assert contact.call_ref_hash is not None
    assert await count(services, Escalation) == 0
    await assert_number_kept_nowhere(services, logs, CALLER)


async def test_key_nine_rings_the_next_counsellor_on_no_answer(
    phone: Callable[..., FakeCaller], services: Services, logs: pytest.LogCaptureFixture
) -> None:
    caller = phone()
    await caller.dial_in()
    await caller.press(caller.key_for("Tiếng Việt"))
    heard = await caller.press("9")

    dial = heard.find("Dial")
    assert dial is not None, "key nine connects the caller at once"
    assert dial.attrib["callerId"] == HOTLINE, "the counsellor sees the hotline's number, not the caller's"
    assert dial.attrib["timeout"] == "20"
    assert "nối máy với tư vấn viên trực" in heard.text
    assert caller.dialled() == [ONCALL[0]]

    heard = await caller.dial_ends("no-answer", ring_seconds=20)
    assert "người tiếp theo" in heard.text
    assert caller.dialled() == list(ONCALL), "no answer: the next counsellor on call"

    heard = await caller.dial_ends("completed", ring_seconds=8, talk_seconds=120)
    assert heard.find("Hangup") is not None
    assert "Cảm ơn bạn đã nói chuyện với tư vấn viên" in heard.text
    await caller.hang_up()

    contact = await only_contact(services)
    assert contact.emergency is True
    assert contact.dial_outcome == "answered"
    assert contact.counsellor_answer_seconds == 28, "20 s unanswered + 8 s ringing the second"
    assert contact.call_status == "completed"
    assert contact.abandoned is False
    assert contact.callback_requested is False
    assert contact.menu_path == [
        "welcome.start",
        "welcome.language",
        "welcome.set_vi",
        "main.menu",
        "emergency.start",
        "emergency.page",
        "emergency.safety",
    ]
    assert contact.ended_at == caller.started + timedelta(seconds=10 + 20 + 8 + 120)
    assert contact.taken_at == caller.started + timedelta(seconds=10 + 20 + 8)
    (escalation,) = await rows(services, Escalation)
    assert (escalation.kind, escalation.status, escalation.channel) == ("emergency", "taken", "phone")
    pages = await rows(services, OutboxEvent, OutboxEvent.kind == "page")
    assert [p.escalation_id for p in pages] == [escalation.id], "the staff were paged through the outbox"
    await assert_number_kept_nowhere(services, logs, CALLER)


async def test_nobody_answers_numbers_are_said_and_a_call_back_is_left(
    phone: Callable[..., FakeCaller], services: Services, logs: pytest.LogCaptureFixture
) -> None:
    caller = phone()
    await caller.dial_in()
    await caller.press(caller.key_for("Tiếng Việt"))
    await caller.press("9")
    await caller.dial_ends("busy", ring_seconds=3)
    heard = await caller.dial_ends("no-answer", ring_seconds=20)

    assert heard.find("Dial") is None
    for spoken in ("một một ba", "một một năm", "một chín không không, chín sáu chín, sáu tám không"):
        assert spoken in heard.text, f"{spoken!r}: the emergency numbers, digit by digit"
    assert "Bấm phím một để để lại yêu cầu gọi lại" in heard.text
    heard = await caller.press("1")
    assert heard.find("Hangup") is not None
    assert "tư vấn viên sẽ gọi lại" in heard.text
    await caller.hang_up()

    contact = await only_contact(services)
    assert contact.emergency is True
    assert contact.dial_outcome == "nobody"
    assert contact.counsellor_answer_seconds is None
    assert contact.callback_requested is True
    assert contact.abandoned is False
    emergency, callback = await rows(services, Escalation)
    assert (emergency.kind, emergency.status) == ("emergency", "open")
    assert (callback.kind, callback.status, callback.contact_id) == ("callback", "open", contact.id)
    assert callback.callback_phone_enc is not None
    assert services.crypto.decrypt(callback.callback_phone_enc) == CALLER, (
        "stored encrypted, readable by staff"
    )
    events = await rows(services, OutboxEvent)
    assert [(e.kind, e.escalation_id) for e in events] == [
        ("page", emergency.id),
        ("page_update", emergency.id),  # nobody answered the phone: the staff are alerted again
        ("page", callback.id),
    ]
    await assert_number_kept_nowhere(services, logs, CALLER)


async def test_silence_then_a_wrong_key_gets_one_more_try_then_goodbye(
    phone: Callable[..., FakeCaller], services: Services
) -> None:
    caller = phone()
    first = await caller.dial_in()
    heard = await caller.stay_silent()
    assert heard.said[0] == "Mình chưa nghe thấy bạn bấm phím nào."
    assert "Bạn muốn nghe tiếng Việt hay tiếng Anh?" in heard.text, "the menu again"
    assert "ẩn danh" not in heard.text, "not the whole welcome again"
    assert heard.find("Gather") is not None
    assert first.find("Gather").attrib["action"] != heard.find("Gather").attrib["action"]  # type: ignore[union-attr]

    heard = await caller.press("7")
    assert heard.find("Gather") is None
    assert heard.find("Hangup") is not None
    assert "Bạn có thể gọi lại bất cứ lúc nào" in heard.text
    await caller.hang_up()

    contact = await only_contact(services)
    assert contact.menu_path == ["welcome.start", "welcome.language"]
    assert contact.abandoned is True, "hung up before hearing any answer"
    assert contact.call_status == "completed"


async def test_a_wrong_key_then_a_right_one_goes_on(phone: Callable[..., FakeCaller]) -> None:
    caller = phone()
    await caller.dial_in()
    heard = await caller.press("5")
    assert heard.said[0] == "Phím này không có trong danh sách."
    heard = await caller.press(caller.key_for("Tiếng Việt"))
    assert "Bạn cần hỗ trợ gì" in heard.text
    heard = await caller.press("6")  # again a wrong key on a new menu: tries start from zero
    assert heard.find("Gather") is not None


async def test_outside_office_hours_key_zero_offers_a_call_back(
    phone: Callable[..., FakeCaller], services: Services, logs: pytest.LogCaptureFixture, clock: Any
) -> None:
    clock.set(caller_time := clock.now().replace(hour=15))  # 22:00 in Ho Chi Minh City
    assert caller_time.hour == 15
    caller = phone()
    heard = await caller.dial_in()
    assert "phím không để để lại yêu cầu gọi lại" in heard.said[-1]
    await caller.press(caller.key_for("Tiếng Việt"))
    heard = await caller.press("0")
    assert heard.find("Dial") is None, "no counsellor is rung outside office hours"
    assert "từ tám giờ đến hai mươi giờ" in heard.text
    assert "Bấm phím một để để lại yêu cầu gọi lại" in heard.text
    heard = await caller.press("1")
    assert "tư vấn viên sẽ gọi lại" in heard.text
    await caller.hang_up()

    contact = await only_contact(services)
    assert contact.callback_requested is True
    assert contact.emergency is False
    assert contact.dial_outcome is None
    assert contact.abandoned is False
    (callback,) = await rows(services, Escalation)
    assert callback.kind == "callback"
    assert services.crypto.decrypt(callback.callback_phone_enc or "") == CALLER
    pages = await rows(services, OutboxEvent, OutboxEvent.kind == "page")
    assert [p.escalation_id for p in pages] == [callback.id]
    await assert_number_kept_nowhere(services, logs, CALLER)


async def test_in_office_hours_key_zero_rings_a_counsellor(
    phone: Callable[..., FakeCaller], services: Services
) -> None:
    caller = phone()
    await caller.dial_in()
    await caller.press(caller.key_for("Tiếng Việt"))
    heard = await caller.press("0")
    assert "nối máy với tư vấn viên" in heard.text
    assert caller.dialled() == [ONCALL[0]]
    await caller.dial_ends("completed", ring_seconds=5, talk_seconds=60)
    await caller.hang_up()
    contact = await only_contact(services)
    assert contact.counsellor_requested is True
    assert contact.emergency is False
    assert (contact.dial_outcome, contact.counsellor_answer_seconds) == ("answered", 5)
    (escalation,) = await rows(services, Escalation)
    assert (escalation.kind, escalation.status) == ("counsellor", "taken")


async def test_a_withheld_number_is_not_offered_a_call_back(
    phone: Callable[..., FakeCaller], services: Services, clock: Any
) -> None:
    clock.set(clock.now().replace(hour=15))
    caller = phone(number="+266696687")  # how Twilio writes "anonymous"
    await caller.dial_in()
    await caller.press(caller.key_for("Tiếng Việt"))
    heard = await caller.press("0")
    assert "Bấm phím một để để lại" not in heard.text
    assert "Số của bạn đang bị ẩn" in heard.text
    heard = await caller.press("1")
    assert heard.said[0] == "Phím này không có trong danh sách."
    assert await count(services, Escalation) == 0


async def test_the_second_page_of_a_long_menu(phone: Callable[..., FakeCaller]) -> None:
    caller = phone()
    await caller.dial_in()
    await caller.press(caller.key_for("Tiếng Việt"))
    first = await caller.press(caller.key_for("HIV và bệnh tình dục"))
    second = await caller.press("8")
    options = [s for s in second.said if s.startswith("Bấm phím ") and " để chọn " in s]
    assert options, second.said
    assert not set(options) & {s for s in first.said if s.startswith("Bấm phím ")}
    assert any("Menu chính" in s for s in options), "the way back is on the last page"
    heard = await caller.press(caller.key_for("Menu chính"))
    assert "Bạn cần hỗ trợ gì" in heard.text


async def test_an_english_caller_hears_english_and_may_speak(
    phone: Callable[..., FakeCaller], services: Services
) -> None:
    caller = phone()
    await caller.dial_in()
    heard = await caller.press(caller.key_for("English"))
    assert "How can we help?" in heard.text
    assert heard.said[-1] == "Press star to repeat, zero for a counsellor, nine if you are in danger."
    say = heard.find("Say")
    assert say is not None and (say.attrib["voice"], say.attrib["language"]) == ("Polly.Joanna", "en-US")
    gather = heard.find("Gather")
    assert gather is not None and gather.attrib["input"] == "dtmf speech"
    heard = await caller.speak("please help me, he is going to kill me")
    assert heard.find("Dial") is not None, "a danger heard in speech rings the counsellors at once"
    assert "connecting you to the counsellor on duty" in heard.text
    contact = await only_contact(services)
    assert contact.emergency is True


async def test_key_nine_rings_the_rota_before_the_fallback_numbers(
    phone: Callable[..., FakeCaller], services: Services
) -> None:
    from datetime import date

    from bot.escalation.rota import import_rota, parse_rota

    plan = parse_rota(
        """
counsellors: [{name: Lan, phone: "+84933333333"}, {name: Minh}]
weekly: [{days: [mon, tue, wed, thu, fri, sat, sun], from: "00:00", to: "24:00", chain: [Minh, Lan]}]
""",
        today=date(2026, 1, 1),
        weeks=2,
    )
    async with services.sessionmaker() as session, session.begin():
        await import_rota(session, services.crypto, plan, now=services.clock.now())
    caller = phone()
    await caller.dial_in()
    await caller.press(caller.key_for("Tiếng Việt"))
    await caller.press("9")
    assert caller.dialled() == ["+84933333333"], "Lan is on call (Minh has no phone route)"
    await caller.dial_ends("no-answer", ring_seconds=20)
    assert caller.dialled() == ["+84933333333", ONCALL[0]], "then HOTLINE_ONCALL_NUMBERS"


async def test_a_voicemail_is_not_a_counsellor(phone: Callable[..., FakeCaller], services: Services) -> None:
    caller = phone()
    await caller.dial_in()
    await caller.press(caller.key_for("Tiếng Việt"))
    heard = await caller.press("9")
    number = heard.find("Dial/Number")
    assert number is not None and number.attrib["url"].endswith(
        "/ivr/screen?" + number.attrib["url"].split("?")[1]
    )
    heard = await caller.dial_ends("completed", ring_seconds=20, talk_seconds=30, counsellor_presses=None)
    assert "Bấm phím một để nhận cuộc gọi" in caller.screened[0].text, "what the one who picked up heard"
    assert caller.screened[0].find("Hangup") is not None, "no key: their phone is hung up"
    assert caller.dialled() == list(ONCALL), "the voicemail answered: the next counsellor is rung"
    assert "người tiếp theo" in heard.text
    await caller.dial_ends("completed", ring_seconds=5, talk_seconds=60)
    contact = await only_contact(services)
    assert contact.dial_outcome == "answered"
    assert contact.counsellor_answer_seconds == 20 + 30 + 5, "from key 9 to the counsellor who pressed 1"
    async with services.sessionmaker() as session:
        from bot.store.models import ProcessedMessage, ScreenedCall

        accepted = (await session.execute(select(ScreenedCall.ref_hash))).scalars().all()
        channels = (await session.execute(select(ProcessedMessage.channel))).scalars().all()
    assert len(accepted) == 1, "the leg taken with key 1, in the phone line's own table"
    assert "phone-screen" not in channels, "not in the engine's de-duplication table"


async def test_a_counsellor_who_declines_passes_it_on(phone: Callable[..., FakeCaller]) -> None:
    caller = phone()
    await caller.dial_in()
    await caller.press(caller.key_for("Tiếng Việt"))
    await caller.press("9")
    await caller.dial_ends("completed", ring_seconds=3, talk_seconds=4, counsellor_presses="2")
    assert caller.screened[-1].find("Hangup") is not None
    assert caller.dialled() == list(ONCALL)


async def test_screening_requests_must_be_signed(
    phone: Callable[..., FakeCaller], services: Services
) -> None:
    caller = phone()
    await caller.dial_in()
    await caller.press(caller.key_for("Tiếng Việt"))
    heard = await caller.press("9")
    number = heard.find("Dial/Number")
    assert number is not None
    response = await caller.post(number.attrib["url"], {"CallSid": "CA" + "1" * 32}, signed=False)
    assert response.status_code == 403
    gather_url = number.attrib["url"].replace("/ivr/screen?", "/ivr/screen-key?")
    response = await caller.post(gather_url, {"CallSid": "CA" + "1" * 32, "Digits": "1"}, signature="forged")
    assert response.status_code == 403
    async with services.sessionmaker() as session:
        from bot.store.models import ScreenedCall

        seen = (await session.execute(select(ScreenedCall.ref_hash))).scalars().all()
        assert seen == [], "a forged key press accepts nothing"


async def test_the_checkin_key_is_the_phone_lines_own(
    phone: Callable[..., FakeCaller], services: Services
) -> None:
    """The main menu's "Hẹn giờ an toàn" on the phone line: the chat flow (web chat's warning, typed
    times) is never read to a caller; the phone line offers its keys and a call-back
    (tests/ivr/test_checkins.py walks the rest)."""
    caller = phone()
    await caller.dial_in()
    await caller.press(caller.key_for("Tiếng Việt"))
    heard = await caller.press(caller.key_for("Hẹn giờ an toàn"))
    assert "Bấm phím một để hẹn ba mươi phút" in heard.text and "Mình sẽ gọi lại cho bạn" in heard.text
    assert "trang này" not in heard.text and "Telegram" not in heard.text
    assert await count(services, Checkin) == 0, "nothing is set before a time is chosen"
