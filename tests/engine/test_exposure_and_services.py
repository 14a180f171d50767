"""After an exposure: how many of the 72 hours for PEP are left. Services by province, honestly."""

from __future__ import annotations

import secrets
import shutil
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.clock import FrozenClock
from bot.engine.timeparse import hours_since
from bot.messages import InboundMessage, Outcome
from bot.nlu import NLU
from bot.runtime import Services, build_services
from bot.settings import ROOT, Settings
from bot.store.models import Contact


async def say(services: Services, user: str, text: str) -> Outcome:
    return await services.engine.handle(InboundMessage("test", user, text=text))


def joined(outcome: Outcome) -> str:
    return "\n".join(r.text for r in outcome.replies)


@pytest.mark.parametrize(
    ("text", "hours"),
    [
        ("3 tieng truoc", 3),
        ("cách đây 5 tiếng", 5),
        ("2h truoc", 2),
        ("tối qua", 48),
        ("hom qua", 48),
        ("hôm kia", 72),
        ("2 ngay", 48),
        ("ba ngày trước", 72),
        ("1 tuan truoc", 168),
        ("vừa xong", 2),
        ("30 phut truoc", 0.5),
        ("yesterday", 48),
        ("5 hours ago", 5),
        ("khong nho", None),
    ],
)
def test_how_long_ago(text: str, hours: float | None) -> None:
    assert hours_since(text) == hours


async def test_condom_broke_three_hours_ago_leaves_at_least_69_hours(services: Services) -> None:
    user = secrets.token_hex(8)
    answer = await say(services, user, "bcs bi rach")
    assert "bao lâu" in answer.replies[-1].text, "the bot asks when it happened"
    outcome = await say(services, user, "3 tieng truoc")
    assert "ít nhất khoảng 69 giờ" in joined(outcome)
    assert "sáu mươi chín" in (outcome.replies[0].voice_text or ""), "the number in words for the phone"


async def test_near_and_past_the_72_hours(services: Services) -> None:
    user = secrets.token_hex(8)
    await say(services, user, "bcs bi rach")
    assert "vài giờ" in joined(await say(services, user, "hôm kia")), "at the edge: go now, a doctor decides"
    user = secrets.token_hex(8)
    await say(services, user, "bcs bi rach")
    past = joined(await say(services, user, "1 tuan truoc"))
    assert "hơn 72 giờ" in past and "cửa sổ" in past and "tránh thai khẩn cấp" in past


async def test_testing_in_a_province_without_an_entry_says_so(services: Services) -> None:
    user = secrets.token_hex(8)
    outcome = await say(services, user, "cho em hỏi xét nghiệm HIV ở Khánh Hòa ở đâu")
    text = joined(outcome)
    assert services.content.knowledge.articles["hiv-testing"].answer.vi in text
    assert "chưa có địa chỉ xét nghiệm HIV nào ở Khánh Hòa" in text, "honest about the gap"
    assert "113" in text or "1900 969 680" in text, "and the national numbers instead"
    async with services.sessionmaker() as session:
        contact = (await session.execute(select(Contact))).scalar_one()
        assert contact.province == "Khánh Hòa" and "hiv_testing" in contact.referrals


async def test_services_menu_asks_the_province_and_may_skip(services: Services) -> None:
    user = secrets.token_hex(8)
    await say(services, user, "menu")
    await say(services, user, "6")  # find services
    asked = await say(services, user, "1")  # HIV testing
    assert "tỉnh" in asked.replies[-1].text
    answer = joined(await say(services, user, "o nha trang"))
    assert "Khánh Hòa" in answer
    user = secrets.token_hex(8)
    await say(services, user, "menu")
    await say(services, user, "6")
    await say(services, user, "5")  # legal aid
    skipped = joined(await say(services, user, "1"))  # "I'd rather not say"
    assert "chưa có địa chỉ trợ giúp pháp lý" in skipped


async def test_an_operator_entry_is_found(
    tmp_path: Path, settings: Settings, clock: FrozenClock, nlu: NLU
) -> None:
    shutil.copytree(ROOT / "knowledge", tmp_path / "knowledge")
    directory = tmp_path / "knowledge" / "directory.yaml"
    directory.write_text(
        directory.read_text(encoding="utf-8").replace(
            "services:\n",
            """services:
  - id: kh-test-clinic
    name: {vi: Phòng khám thử nghiệm, en: Test clinic}
    kind: hiv_testing
    province: Khánh Hòa
    address: "1 Đường Thử, Nha Trang"
    phone: "0258 000 0000"
    voice_phone: không hai năm tám, không không không, không không không không
    hours: {vi: "7:00-17:00", en: "7am-5pm"}
    source: "test fixture"
""",
            1,
        ),
        encoding="utf-8",
    )
    local = settings.model_copy(update={"knowledge_dir": tmp_path / "knowledge"})
    services = build_services(local, clock=clock, nlu=nlu, channel_factories=[])
    try:
        text = joined(await say(services, secrets.token_hex(8), "xet nghiem hiv o khanh hoa"))
        assert "Phòng khám thử nghiệm" in text and "0258 000 0000" in text
    finally:
        await services.close()


async def test_a_new_question_instead_of_the_answer_is_answered(services: Services) -> None:
    user = secrets.token_hex(8)
    await say(services, user, "bcs bi rach")
    outcome = await say(services, user, "thuốc PrEP là gì")
    text = joined(outcome)
    assert services.content.knowledge.articles["prep"].answer.vi in text
    assert "chưa hiểu thời gian" not in text
