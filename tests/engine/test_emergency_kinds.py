"""Emergencies answered by their kind, in both languages, and a bystander answered as a bystander.

Every case is a message a person could write, which today's model flags with the right kind; the reply
must carry what fits that danger (first aid for an overdose, 111 for someone held, PEP and emergency
contraception after an assault...) and the page must carry the kind as its risk, for every kind.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.engine.safety import SafetyVerdict
from bot.escalation.rota import import_rota, parse_rota
from bot.messages import InboundMessage, Outcome
from bot.nlu import Understanding, normalize
from bot.nlu.bystander import Bystander
from bot.runtime import Services
from bot.settings import ROOT
from bot.store.models import Escalation, OutboxEvent
from tests.support.content import check, copy_content

ROTA = """
timezone: Asia/Ho_Chi_Minh
counsellors:
  - name: Lan
    telegram: 1001
weekly:
  - days: [mon, tue, wed, thu, fri, sat, sun]
    from: "00:00"
    to: "24:00"
    chain: [Lan]
"""


@dataclass(frozen=True)
class Case:
    kind: str
    locale: str
    message: str
    about_other: bool
    says: tuple[str, ...]  # all of these are in the first reply

    @property
    def id(self) -> str:
        return f"{self.kind}-{self.locale}-{'bystander' if self.about_other else 'self'}"


OVERDOSE_VI = ("115", "thổi ngạt", "ép tim", "nằm nghiêng", "Ở lại", "naloxone", "làm mát", "từng ngụm")
OVERDOSE_EN = ("115", "rescue breaths", "CPR", "recovery position", "Stay with", "naloxone", "cool", "sips")
ASSAULT_VI = ("PEP", "72 giờ", "tránh thai khẩn cấp", "levonorgestrel", "mifepristone 10 mg", "113", "115")
ASSAULT_EN = (
    "PEP",
    "72 hours",
    "Emergency contraception",
    "levonorgestrel",
    "mifepristone 10 mg",
    "113",
    "115",
)
HELD_NUMBERS = ("111", "113", "1900 969 680")

CASES = [
    Case("overdose", "vi", "em uống quá liều rồi, tim đập nhanh lắm", False, (*OVERDOSE_VI, "Đừng ở một mình")),
    Case("overdose", "en", "I took too much heroin and I can barely breathe", False, (*OVERDOSE_EN, "Do not stay alone")),
    Case("overdose", "vi", "bạn em chơi đá xong bất tỉnh, thở khò khè", True, (*OVERDOSE_VI, "bạn ấy")),
    Case("overdose", "en", "my friend took too much heroin and is not breathing", True, (*OVERDOSE_EN, "your friend")),
    Case("suicide_self_harm", "vi", "em muốn chết, em không muốn sống nữa", False, ("Cảm ơn bạn đã nói với mình", "an toàn ngay lúc này", "115", "mình ở đây với bạn")),
    Case("suicide_self_harm", "en", "I want to kill myself tonight", False, ("Thank you for telling me", "safe right now", "115", "I am here with you")),
    Case("suicide_self_harm", "vi", "bạn em nói tối nay sẽ tự tử", True, ("Bạn ấy có đang an toàn", "115", "ở bên bạn ấy")),
    Case("suicide_self_harm", "en", "my friend wants to commit suicide", True, ("Are they safe right now", "115", "stay with them")),
    Case("held_trafficked", "vi", "em bị nhốt trong phòng, chủ lấy mất hộ chiếu rồi", False, (*HELD_NUMBERS, "mua bán người", "mọi lứa tuổi")),
    Case("held_trafficked", "en", "they took my passport and locked me in the room", False, (*HELD_NUMBERS, "anti-trafficking", "every age")),
    Case("held_trafficked", "vi", "bạn em bị nhốt, bị lấy hết giấy tờ", True, (*HELD_NUMBERS, "báo thay bạn ấy")),
    Case("held_trafficked", "en", "my friend is locked in a room and they took her passport", True, (*HELD_NUMBERS, "report it for them")),
    Case("sexual_assault", "vi", "em vừa bị khách cưỡng hiếp", False, (*ASSAULT_VI, "Bạn không có lỗi")),
    Case("sexual_assault", "en", "I was just raped by a client", False, (*ASSAULT_EN, "not your fault")),
    Case("sexual_assault", "vi", "bạn em vừa bị hiếp dâm", True, (*ASSAULT_VI, "giúp bạn ấy")),
    Case("sexual_assault", "en", "my friend was just raped", True, (*ASSAULT_EN, "your friend")),
    Case("violence_now", "vi", "chị ấy đang bị chồng đánh chảy máu", True, ("bạn ấy", "113", "115")),
    Case("violence_now", "en", "my friend is being beaten by her boyfriend right now", True, ("the person", "113", "115")),
]  # fmt: skip
SELF_MENU = {"vi": "Mình đang gọi tư vấn viên trực", "en": "I am calling the counsellor on duty"}
QUICK_EXIT = {"vi": "Thoát nhanh", "en": "Quick exit"}


@pytest.fixture
async def on_call(services: Services) -> None:
    """A counsellor on call: the person is told a counsellor is being called."""
    plan = parse_rota(ROTA, today=date(2026, 1, 1), weeks=4)
    async with services.sessionmaker() as session, session.begin():
        await import_rota(session, services.crypto, plan, now=services.clock.now())


async def write(services: Services, user: str, text: str) -> Outcome:
    return await services.engine.handle(InboundMessage("test", user, text=text))


async def only_escalation(services: Services) -> tuple[Escalation, list[OutboxEvent]]:
    async with services.sessionmaker() as session:
        escalation = (await session.execute(select(Escalation))).scalar_one()
        pages = (await session.execute(select(OutboxEvent).where(OutboxEvent.kind == "page"))).scalars()
        return escalation, list(pages)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
async def test_each_kind_gets_its_reply_and_its_page(services: Services, on_call: None, case: Case) -> None:
    outcome = await write(services, secrets.token_hex(8), case.message)
    assert outcome.emergency
    first, menu = outcome.replies[0], outcome.replies[-1]
    for words in case.says:
        assert words in first.text, f"{words!r} missing from the {case.id} reply: {first.text}"
    assert first.voice_text and not any(ch.isdigit() for ch in first.voice_text), "spoken in words"
    assert any(QUICK_EXIT[case.locale] == c.label for c in menu.choices), "a discreet way out, always"
    if not case.about_other:
        assert SELF_MENU[case.locale] in menu.text, "the counsellor is being called"
    friend = {"vi": "Bạn ấy", "en": "My friend"}[case.locale]
    assert any(c.label.startswith(friend) for c in menu.choices) == case.about_other
    escalation, pages = await only_escalation(services)
    assert (escalation.kind, escalation.risk, escalation.status) == ("emergency", case.kind, "open")
    assert [p.escalation_id for p in pages] == [escalation.id], "the page is written with the reply"


@pytest.mark.parametrize("locale", ["vi", "en"])
async def test_an_overdose_names_the_ambulance_before_any_police(services: Services, locale: str) -> None:
    message = {
        "vi": "bạn em chơi đá xong bất tỉnh, thở khò khè",
        "en": "my friend overdosed and won't wake up",
    }
    outcome = await write(services, secrets.token_hex(8), message[locale])
    said = "\n".join(reply.text for reply in outcome.replies)
    assert "115" in said
    assert "113" not in said or said.index("115") < said.index("113"), "a bystander may fear the police"
    assert outcome.replies[0].text.lstrip().startswith({"vi": "Gọi ngay 115", "en": "Call 115"}[locale])


async def test_suicide_has_its_own_words_not_the_generic_safety_question(services: Services) -> None:
    outcome = await write(services, secrets.token_hex(8), "em muốn chết, em không muốn sống nữa")
    generic = services.content.flows.nodes["emergency.safety"].text
    assert generic is not None
    assert all(reply.text != generic.vi for reply in outcome.replies)
    assert "113" not in outcome.replies[0].text, "115 if something was taken or they are hurt; no police"


@pytest.mark.parametrize("case", [c for c in CASES if not c.about_other][::2], ids=lambda c: c.id)
async def test_with_nobody_on_duty_each_kind_still_gives_its_numbers(services: Services, case: Case) -> None:
    outcome = await write(services, secrets.token_hex(8), case.message)
    said = "\n".join(reply.text for reply in outcome.replies)
    assert "chưa có tư vấn viên trực" in said or "No counsellor is on duty" in said
    numbers = {"held_trafficked": HELD_NUMBERS, "sexual_assault": ("113", "115")}.get(case.kind, ("115",))
    for number in numbers:
        assert number in said, f"{number} missing with nobody on duty ({case.id})"
    escalation, pages = await only_escalation(services)
    assert escalation.risk == case.kind and len(pages) == 1, "paged anyway: whoever comes sees it"


async def test_a_second_message_is_answered_again_with_its_kind(services: Services, on_call: None) -> None:
    user = secrets.token_hex(8)
    await write(services, user, "bạn em chơi đá xong bất tỉnh, thở khò khè")
    again = await write(services, user, "bạn em vẫn chưa tỉnh, thở yếu lắm")
    assert again.emergency
    assert "thổi ngạt" in again.replies[0].text, "the first aid again, not only 'still here'"
    assert "đã báo lại cho tư vấn viên" in again.replies[-1].text
    escalation, _pages = await only_escalation(services)
    assert escalation.risk == "overdose"


async def test_a_danger_button_after_an_overdose_is_the_generic_path(
    services: Services, on_call: None
) -> None:
    user = secrets.token_hex(8)
    await write(services, user, "bạn em chơi đá xong bất tỉnh, thở khò khè")
    danger = next(
        node.choice_id(c)
        for node in services.content.flows.nodes.values()
        for c in node.choices
        if c.goto == "emergency.start"
    )
    outcome = await services.engine.handle(InboundMessage("test", user, kind="choice", choice=danger))
    assert outcome.emergency
    (reply,) = outcome.replies
    assert "đã báo lại cho tư vấn viên" in reply.text and "113" in reply.text, "the generic 'still here'"
    assert "thổi ngạt" not in reply.text, "the earlier message's kind does not answer a button"


class FixedVerdict:
    """The safety check seam: every message is an emergency of one kind."""

    def __init__(self, kind: str | None) -> None:
        self.kind = kind

    def check(self, understanding: Understanding) -> SafetyVerdict:
        return SafetyVerdict(emergency=True, score=1.0, kind=self.kind)


@pytest.mark.parametrize("kind", [None, "threat_to_life", "violence_now"])
async def test_violence_and_unknown_dangers_keep_the_safety_question(
    services: Services, on_call: None, kind: str | None
) -> None:
    services.engine.deps.safety = FixedVerdict(kind)
    outcome = await write(services, secrets.token_hex(8), "cứu em với")
    (reply,) = outcome.replies
    assert "Bạn có đang an toàn không?" in reply.text and "113" in reply.text and "115" in reply.text
    escalation, _pages = await only_escalation(services)
    assert escalation.risk == kind


def test_bystander_words_tell_someone_else_from_the_writer() -> None:
    bystander = Bystander.load(ROOT / "knowledge")
    others = [
        "bạn em bị sốc thuốc", "b e choi da xong bat tinh", "chị ấy đang bị đánh", "người ta đang đánh nhau",
        "my friend was raped", "she is not breathing", "help me, my friend overdosed", "cứu em với, bạn em bất tỉnh",
    ]  # fmt: skip
    writers = [
        "chồng em đánh em", "bạn em đánh em", "em bị nhốt", "người ta đang theo dõi em", "he is going to kill me",
        "my friend hits me", "my boyfriend beat me", "I want to kill myself", "bạn trai em đánh em", "cứu em",
        "chị em tôi bị nhốt", "someone is following me", "this guy is hitting me", "bạn ơi em bị đánh",
    ]  # fmt: skip
    assert [t for t in others if not bystander.about_other(normalize(t))] == []
    assert [t for t in writers if bystander.about_other(normalize(t))] == []


# -- the content is checked: a routing typo or an unknown number is a mistake with file and line ----


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    """A copy of the real content to break."""
    return copy_content(tmp_path)


def edit(path: Path, old: str, new: str) -> int:
    """Replace ``old`` once; the line it was on."""
    text = path.read_text(encoding="utf-8")
    assert old in text
    line = text[: text.index(old)].count("\n") + 1
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return line


def test_a_branch_on_a_kind_that_does_not_exist_is_a_mistake(copy: Path) -> None:
    path = copy / "flows" / "emergency.yaml"
    line = edit(path, "      held_trafficked: held\n", "      held_trafficking: held\n")
    code, output = check(copy)
    assert code == 1
    assert f"flows/emergency.yaml:{line}: `emergency.start` branches on `held_trafficking`" in output


def test_a_number_not_in_the_directory_is_a_mistake(copy: Path) -> None:
    path = copy / "flows" / "emergency.yaml"
    line = edit(path, "gọi 111, đường\n", "gọi 1800 1768, đường\n")
    code, output = check(copy)
    assert code == 1
    assert f"flows/emergency.yaml:{line}: phone number '1800 1768' in `emergency.held`" in output


def test_a_number_in_the_engine_strings_is_checked_too(copy: Path) -> None:
    path = copy / "flows" / "strings.yaml"
    line = edit(path, "1900 969 680 (Ngôi nhà", "1900 969 681 (Ngôi nhà")
    code, output = check(copy)
    assert code == 1
    assert f"flows/strings.yaml:{line}: phone number '1900 969 681' in string `" in output


def test_digits_in_a_voice_text_are_a_mistake(copy: Path) -> None:
    path = copy / "flows" / "emergency.yaml"
    line = edit(path, "Hãy gọi ngay một một năm cho bạn ấy.", "Hãy gọi ngay 115 cho bạn ấy.") - 1  # `vi: >-`
    code, output = check(copy)
    assert code == 1
    assert f"flows/emergency.yaml:{line}: `voice.vi` has digits" in output
