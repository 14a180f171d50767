"""Three levels of triage (issue 12): emergency pages; possible asks first; none answers.

The level comes through the engine's safety seam (``EngineDeps.safety``), as any detector's would; one
test at the end goes through the real language model.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from bot.engine.safety import NluSafetyCheck, SafetyVerdict
from bot.metrics import POSSIBLE_RISKS
from bot.runtime import Services
from bot.store.models import Contact, Escalation, OutboxEvent
from tests.channels.test_webchat import choice_id, post
from tests.console.test_console import add_staff, login
from tests.support.db import count

ASK_VI = "Bạn có đang gặp nguy hiểm ngay lúc này không?"
ASK_EN = "Are you in danger right now?"
QUESTION = "công an được giữ người ở đồn bao lâu"  # answered by the police-rights article


class PossibleFor:
    """The real model, except that the messages given are at level ``possible`` (kind violence_now)."""

    def __init__(self, *texts: str) -> None:
        self.texts = set(texts)
        self.real = NluSafetyCheck()

    def check(self, understanding: Any) -> SafetyVerdict:
        if understanding.text in self.texts:
            return SafetyVerdict(emergency=False, score=0.4, kind="violence_now", level="possible")
        return self.real.check(understanding)


@pytest.fixture
def possible(services: Services) -> Iterator[PossibleFor]:
    check = PossibleFor(QUESTION, "my face is bleeding, what are my rights", "nó đánh em, chảy máu")
    services.engine.deps.safety = check
    yield check


async def test_possible_asks_first_and_pages_nobody(
    client: httpx.AsyncClient, services: Services, possible: PossibleFor
) -> None:
    before = POSSIBLE_RISKS.value(kind="violence_now")
    data = await post(client, session=secrets.token_hex(16), text=QUESTION)
    last = data["replies"][-1]
    assert last["text"] == ASK_VI
    assert POSSIBLE_RISKS.value(kind="violence_now") == before + 1, "counted for /metrics"
    labels = [c["label"] for c in last["choices"]]
    assert labels == ["Có, tôi cần giúp ngay", "Không, tôi cần thông tin"]
    assert await count(services, Escalation) == 0
    assert await count(services, OutboxEvent, OutboxEvent.kind == "page") == 0
    async with services.sessionmaker() as session:
        contact = (await session.execute(select(Contact))).scalar_one()
    assert contact.possible_at is not None and contact.possible_kind == "violence_now"
    assert contact.possible_answer is None and not contact.emergency


async def test_yes_starts_the_emergency_flow_and_the_page(
    client: httpx.AsyncClient, services: Services, possible: PossibleFor
) -> None:
    await add_staff(services, "lan")
    session = secrets.token_hex(16)
    data = await post(client, session=session, text=QUESTION)
    data = await post(client, session=session, choice=choice_id(data, "cần giúp ngay"))
    assert "113" in data["replies"][0]["text"]
    async with services.sessionmaker() as db:
        escalation = (await db.execute(select(Escalation))).scalar_one()
        contact = (await db.execute(select(Contact))).scalar_one()
    assert escalation.kind == "emergency" and escalation.risk == "violence_now"
    assert contact.possible_answer == "danger" and contact.emergency
    assert await count(services, OutboxEvent, OutboxEvent.kind == "page") == 1


async def test_no_gives_the_answer_that_was_kept(
    client: httpx.AsyncClient, services: Services, possible: PossibleFor
) -> None:
    session = secrets.token_hex(16)
    data = await post(client, session=session, text=QUESTION)
    data = await post(client, session=session, choice=choice_id(data, "cần thông tin"))
    texts = " ".join(r["text"] for r in data["replies"])
    offered = [c["id"] for r in data["replies"] for c in r["choices"]]
    # the police-rights answer (how long they may hold someone), or it among the closest articles
    assert "12 giờ" in texts or "a:police-rights" in offered, data
    assert await count(services, Escalation) == 0
    async with services.sessionmaker() as db:
        contact = (await db.execute(select(Contact))).scalar_one()
    assert contact.possible_answer == "information"


@pytest.mark.parametrize(
    ("typed", "emergency"), [("co", True), ("Có", True), ("ko", False), ("không", False)]
)
async def test_typed_answers_without_diacritics_work(
    client: httpx.AsyncClient, services: Services, possible: PossibleFor, typed: str, emergency: bool
) -> None:
    session = secrets.token_hex(16)
    await post(client, session=session, text=QUESTION)
    data = await post(client, session=session, text=typed)
    assert ("113" in data["replies"][0]["text"]) is emergency
    assert await count(services, Escalation) == (1 if emergency else 0)


async def test_an_ambiguous_ok_is_asked_again(
    client: httpx.AsyncClient, services: Services, possible: PossibleFor
) -> None:
    session = secrets.token_hex(16)
    await post(client, session=session, text=QUESTION)
    data = await post(client, session=session, text="ok")
    assert data["replies"][-1]["text"] == ASK_VI
    assert await count(services, Escalation) == 0


async def test_more_signs_of_harm_after_the_question_are_a_yes(
    client: httpx.AsyncClient, services: Services, possible: PossibleFor
) -> None:
    session = secrets.token_hex(16)
    await post(client, session=session, text=QUESTION)
    data = await post(client, session=session, text="nó đánh em, chảy máu")
    assert "113" in data["replies"][0]["text"]
    assert await count(services, Escalation) == 1


async def test_asked_in_english(client: httpx.AsyncClient, services: Services, possible: PossibleFor) -> None:
    data = await post(client, session=secrets.token_hex(16), text="my face is bleeding, what are my rights")
    last = data["replies"][-1]
    assert last["text"] == ASK_EN
    assert [c["label"] for c in last["choices"]] == ["Yes, I need help now", "No, I want information"]


async def test_the_console_lists_possible_risk_without_paging(
    client: httpx.AsyncClient, services: Services, possible: PossibleFor
) -> None:
    await add_staff(services, "lan")
    await post(client, session=secrets.token_hex(16), text=QUESTION)
    await login(client, "lan")
    listed = (await client.get("/console/api/possible")).json()
    assert listed == [
        {"contact": listed[0]["contact"], "channel": "webchat", "kind": "violence_now", "ago": 0,
         "answer": None, "emergency": False}
    ]  # fmt: skip
    assert (await client.get("/console/api/queue")).json() == []  # nobody paged, nothing to take
    page = (await client.get("/console")).text
    assert "possible-risk" in page


async def test_the_real_model_never_lets_an_injury_with_no_time_pass(client: httpx.AsyncClient) -> None:
    # An injury word is at least "possible" (the lexicon's ``possible``); the classifier may make it an
    # emergency (it scores "em bị chảy máu" near its threshold, on one side or the other as the training
    # content grows): asked or paged, never answered as a question.
    data = await post(client, session=secrets.token_hex(16), text="em bị chảy máu")
    texts = " ".join(reply["text"] for reply in data["replies"])
    assert ASK_VI in texts or "115" in texts


@pytest.mark.parametrize("text", ["em", "em đây", "e oi"])
async def test_the_real_model_pages_nobody_for_a_bare_pronoun(
    client: httpx.AsyncClient, services: Services, text: str
) -> None:
    data = await post(client, session=secrets.token_hex(16), text=text)
    assert all(ASK_VI not in reply["text"] for reply in data["replies"])
    assert await count(services, Escalation) == 0
