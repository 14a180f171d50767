"""Danger in an account the person was asked for: a bad client's report, a check-in's note.

What a bad client did ("Đòi không dùng bao, rồi đánh và lấy tiền", last week) is told in violent words;
the classifier alone read it as an emergency near its threshold and paged a counsellor in the middle of
the report. There, a classifier-only emergency (below the lexicon's score) is taken as the note and listed
as a possible risk on the console; a danger phrase or a cry for help still starts the emergency flow.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from bot.engine.safety import NluSafetyCheck, SafetyVerdict
from bot.nlu.emergency import LEXICON_SCORE
from bot.runtime import Services
from bot.store.models import Contact, Escalation
from tests.escalation.test_alerts import DETAILS, say
from tests.support.db import count

ACCOUNT = "Nó bắt em làm không bao, xong rồi tát em và giật tiền"


class ClassifierSays:
    """The real model, except that ``text`` is an emergency at ``score`` (the classifier's, or the
    lexicon's at :data:`LEXICON_SCORE`)."""

    def __init__(self, text: str, score: float) -> None:
        self.text, self.score = text, score
        self.real = NluSafetyCheck()

    def check(self, understanding: Any) -> SafetyVerdict:
        if understanding.text == self.text:
            return SafetyVerdict(emergency=True, score=self.score, kind="violence_now", level="emergency")
        return self.real.check(understanding)


@pytest.fixture
def classifier_only(services: Services) -> Iterator[None]:
    services.engine.deps.safety = ClassifierSays(ACCOUNT, 0.7)
    yield


async def start_report(client: httpx.AsyncClient, person: str) -> None:
    await say(client, person, "xin chào")
    assert "tỉnh/thành nào" in await say(client, person, "báo khách xấu")
    assert "quận/huyện" in await say(client, person, "Hà Nội")
    assert "Khi nào" in await say(client, person, DETAILS["place"])
    assert "Chuyện gì" in await say(client, person, DETAILS["when"])


async def test_a_report_told_in_violent_words_goes_on_and_is_listed(
    client: httpx.AsyncClient, services: Services, classifier_only: None
) -> None:
    person = secrets.token_hex(16)
    await start_report(client, person)
    assert "trông thế nào" in await say(client, person, ACCOUNT), "the report goes on to the next field"
    assert await count(services, Escalation) == 0, "nobody paged"
    async with services.sessionmaker() as session:
        contacts = (await session.scalars(select(Contact))).all()
    assert [c.possible_kind for c in contacts if c.possible_at is not None] == ["violence_now"]


async def test_a_danger_phrase_in_a_report_still_starts_the_emergency_flow(
    client: httpx.AsyncClient, services: Services
) -> None:
    services.engine.deps.safety = ClassifierSays(ACCOUNT, LEXICON_SCORE)
    person = secrets.token_hex(16)
    await start_report(client, person)
    answer = await say(client, person, ACCOUNT)
    assert "trông thế nào" not in answer
    assert "113" in answer, "the emergency reply"


@pytest.mark.parametrize(
    "text",
    [
        "cứu em, nó đang đánh em",  # a cry for help
        "nó đang đứng ngoài cửa phòng em",  # no danger phrase, told in the present: the classifier is sure
    ],
)
async def test_a_danger_now_in_a_report_is_an_emergency(client: httpx.AsyncClient, text: str) -> None:
    person = secrets.token_hex(16)
    await start_report(client, person)
    answer = await say(client, person, text)
    assert "trông thế nào" not in answer
    assert "113" in answer
