"""On the phone: a danger heard in English speech says what fits its kind, then rings the counsellors.

Key nine stays the generic danger path; a possible danger heard in speech is asked about by key first
("press nine if you are in danger right now, press one for information").
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from sqlalchemy import select

from bot.engine.safety import SafetyVerdict
from bot.nlu import Understanding
from bot.runtime import Services
from bot.store.models import Escalation, OutboxEvent
from ivr.spoken import speakable
from tests.fakes.twilio_caller import FakeCaller, Heard, parse
from tests.ivr.conftest import ONCALL

CONNECTING = "I am connecting you to the counsellor on duty. Please stay on the line."
ASK = "Are you in danger right now? Press nine if you are in danger right now, press one for information."

# (the kind the safety check sees, what the caller says, the node whose voice text is said first)
SPOKEN = [
    ("overdose", "my friend took too much heroin and is not breathing", "overdose_other"),
    ("overdose", "I took too much heroin and I can barely breathe", "overdose"),
    ("suicide_self_harm", "I want to kill myself tonight", "suicide"),
    ("suicide_self_harm", "my friend wants to commit suicide", "suicide_other"),
    ("held_trafficked", "they took my passport and locked me in the room", "held"),
    ("held_trafficked", "my friend is locked in a room and they took her passport", "held_other"),
    ("sexual_assault", "I was just raped by a client", "sexual_assault"),
    ("sexual_assault", "my friend was just raped", "sexual_assault_other"),
    ("violence_now", "my friend is being beaten by her boyfriend right now", "danger_other"),
]


async def english_menu(phone: Callable[..., FakeCaller]) -> FakeCaller:
    caller = phone()
    await caller.dial_in()
    await caller.press(caller.key_for("English"))
    return caller


async def escalation_and_pages(services: Services) -> tuple[Escalation, list[OutboxEvent]]:
    async with services.sessionmaker() as session:
        escalation = (await session.execute(select(Escalation))).scalar_one()
        pages = (await session.execute(select(OutboxEvent).where(OutboxEvent.kind == "page"))).scalars()
        return escalation, list(pages)


def voice_of(services: Services, node: str) -> str:
    voice = services.content.flows.nodes[f"emergency.{node}"].voice
    assert voice is not None
    return speakable(voice.en)


@pytest.mark.parametrize(("kind", "words", "node"), SPOKEN, ids=[node for _, _, node in SPOKEN])
async def test_a_danger_said_in_english_hears_its_kind_then_the_counsellor_rings(
    phone: Callable[..., FakeCaller], services: Services, kind: str, words: str, node: str
) -> None:
    caller = await english_menu(phone)
    heard = await caller.speak(words)
    assert heard.said[:2] == [voice_of(services, node), CONNECTING], "what to do now, then connecting"
    assert heard.find("Dial") is not None and caller.dialled() == [ONCALL[0]]
    escalation, pages = await escalation_and_pages(services)
    assert (escalation.kind, escalation.risk, escalation.channel) == ("emergency", kind, "phone")
    assert [p.escalation_id for p in pages] == [escalation.id], "the staff are paged through the outbox"


async def test_overdose_on_the_phone_says_the_ambulance_and_first_aid_not_the_police(
    phone: Callable[..., FakeCaller], services: Services
) -> None:
    caller = await english_menu(phone)
    heard = await caller.speak("my friend took too much heroin and is not breathing")
    first = heard.said[0]
    assert first.startswith("Call one one five")
    assert "rescue breaths" in first and "on their side" in first and "naloxone" in first
    assert "one one three" not in heard.text


async def test_held_on_the_phone_hears_one_one_one(phone: Callable[..., FakeCaller]) -> None:
    caller = await english_menu(phone)
    heard = await caller.speak("they took my passport and locked me in the room")
    assert "call one one one, the national anti-trafficking hotline" in heard.said[0]


async def test_when_nobody_answers_the_kind_is_said_again_with_the_numbers(
    phone: Callable[..., FakeCaller], services: Services
) -> None:
    caller = await english_menu(phone)
    await caller.speak("they took my passport and locked me in the room")
    await caller.dial_ends("no-answer", ring_seconds=20)
    heard = await caller.dial_ends("no-answer", ring_seconds=20)
    assert heard.find("Dial") is None
    assert heard.said[0] == voice_of(services, "held"), "111 again, not only the general numbers"
    assert "one nine zero zero, nine six nine, six eight zero" in heard.text
    assert "one one three" in heard.text and "one one five" in heard.text


async def test_key_nine_stays_the_generic_danger_path(
    phone: Callable[..., FakeCaller], services: Services
) -> None:
    caller = await english_menu(phone)
    heard = await caller.press("9")
    assert heard.said[0] == CONNECTING, "nothing before connecting: the caller asked for a person"
    escalation, _pages = await escalation_and_pages(services)
    assert escalation.risk is None
    await caller.dial_ends("no-answer", ring_seconds=20)
    heard = await caller.dial_ends("no-answer", ring_seconds=20)
    assert heard.said[0].startswith("I am sorry, no counsellor could answer"), "the general numbers only"


@dataclass(frozen=True)
class LeveledVerdict(SafetyVerdict):
    level: str = "none"


class Possible:
    """The safety check seam: every message is a possible danger (not an emergency)."""

    def check(self, understanding: Understanding) -> SafetyVerdict:
        return LeveledVerdict(emergency=False, score=0.4, kind=None, level="possible")


async def test_a_possible_danger_is_asked_by_key_and_one_gives_the_information(
    phone: Callable[..., FakeCaller], services: Services
) -> None:
    services.engine.deps.safety = Possible()
    caller = await english_menu(phone)
    heard = await caller.speak("what is PrEP")
    assert heard.said == [ASK]
    gather = heard.find("Gather")
    assert gather is not None and gather.attrib["input"] == "dtmf", "asked by key"
    heard = await caller.press("1")
    assert heard.said[0] == services.content.knowledge.articles["prep"].voice.en
    async with services.sessionmaker() as session:
        assert (await session.execute(select(Escalation))).first() is None, "nobody is paged"


async def test_a_possible_danger_then_nine_rings_the_counsellors(
    phone: Callable[..., FakeCaller], services: Services
) -> None:
    services.engine.deps.safety = Possible()
    caller = await english_menu(phone)
    await caller.speak("what is PrEP")
    heard = await caller.press("9")
    assert heard.find("Dial") is not None and CONNECTING in heard.said
    escalation, pages = await escalation_and_pages(services)
    assert escalation.kind == "emergency" and len(pages) == 1


async def test_a_possible_danger_asks_once_more_on_silence_then_reads_the_answer(
    phone: Callable[..., FakeCaller], services: Services
) -> None:
    services.engine.deps.safety = Possible()
    caller = await english_menu(phone)
    await caller.speak("what is PrEP")
    heard: Heard = await caller.stay_silent()
    assert heard.said == ["I did not hear a key.", ASK]
    heard = await caller.stay_silent()
    assert heard.said[0] == services.content.knowledge.articles["prep"].voice.en


async def test_a_possible_danger_then_zero_reaches_a_counsellor(
    phone: Callable[..., FakeCaller], services: Services
) -> None:
    services.engine.deps.safety = Possible()
    caller = await english_menu(phone)
    await caller.speak("what is PrEP")
    heard = await caller.press("0")
    assert "I am connecting you to a counsellor" in heard.text
    assert caller.dialled() == [ONCALL[0]]


async def test_speech_result_is_ignored_where_the_gather_listens_for_keys_only(
    phone: Callable[..., FakeCaller], services: Services
) -> None:
    """Issue 16: a ``SpeechResult`` posted to a keys-only ``<Gather>`` (a Vietnamese menu, or the
    "are you in danger?" question) is not the caller's words: it is read as silence."""
    caller = phone()
    await caller.dial_in()
    heard = await caller.press(caller.key_for("Tiếng Việt"))
    gather = heard.find("Gather")
    assert gather is not None and gather.attrib["input"] == "dtmf"
    response = await caller.post(gather.attrib["action"], {"SpeechResult": "help me he is going to kill me"})
    heard = parse(response.text)
    assert heard.find("Dial") is None and heard.said[0] == "Mình chưa nghe thấy bạn bấm phím nào."
    async with services.sessionmaker() as session:
        assert (await session.execute(select(Escalation))).first() is None, "nobody is paged"

    services.engine.deps.safety = Possible()
    caller = await english_menu(phone)
    heard = await caller.speak("what is PrEP")
    assert heard.said == [ASK]
    gather = heard.find("Gather")
    assert gather is not None and gather.attrib["input"] == "dtmf"
    response = await caller.post(gather.attrib["action"], {"SpeechResult": "what is PEP"})
    assert parse(response.text).said == ["I did not hear a key.", ASK], "asked again, not read as words"
