"""When the bot is unsure which article answers, it offers the closest ones instead of guessing."""

from __future__ import annotations

import dataclasses
import secrets

from bot.messages import InboundMessage
from bot.nlu import NLU, Understanding
from bot.runtime import Services


class Unsure:
    """The real model, made unsure: it always offers two articles without a confident first."""

    def __init__(self, nlu: NLU) -> None:
        self.nlu = nlu

    async def understand(self, text: str) -> Understanding:
        understood = await self.nlu.understand(text)
        return dataclasses.replace(
            understood, emergency=False, articles=(("pep", 1.0), ("prep", 0.9)), confident=False
        )


async def test_unsure_answers_offer_the_candidates(services: Services) -> None:
    services.engine.deps.nlu = Unsure(services.nlu)
    user = secrets.token_hex(8)
    outcome = await services.engine.handle(InboundMessage("test", user, text="thuoc phong hiv"))
    offer = outcome.replies[-1]
    assert "Bạn muốn xem bài nào" in offer.text
    assert [c.id for c in offer.choices] == ["a:pep", "a:prep", "choose.pick:none"]
    outcome = await services.engine.handle(InboundMessage("test", user, text="2"))
    prep = services.content.knowledge.articles["prep"]
    assert outcome.replies[0].text == prep.answer.vi, "typing the number picks the candidate"


async def test_the_language_follows_the_person_until_they_choose(services: Services) -> None:
    user = secrets.token_hex(8)
    start = await services.engine.handle(InboundMessage("test", user, kind="start"))
    assert "tiếng Việt hay tiếng Anh" in start.replies[-1].text
    outcome = await services.engine.handle(InboundMessage("test", user, text="what is PrEP please"))
    assert outcome.replies[0].text == services.content.knowledge.articles["prep"].answer.en
    outcome = await services.engine.handle(InboundMessage("test", user, text="thuốc PrEP là gì"))
    assert outcome.replies[0].text == services.content.knowledge.articles["prep"].answer.vi
    await services.engine.handle(InboundMessage("test", user, text="english"))  # chosen: it stays
    outcome = await services.engine.handle(InboundMessage("test", user, text="thuốc PrEP là gì"))
    assert outcome.replies[0].text == services.content.knowledge.articles["prep"].answer.en


def test_english_is_recognised_and_vietnamese_without_marks_is_not_mistaken_for_it() -> None:
    from bot.engine.language import guess_locale

    for text in ("my pimp took my passport", "can I talk to a real person", "thank you so much", "help"):
        assert guess_locale(text) == "en", text
    for text in ("em o my tho", "toi can giup do", "the nao", "em on roi", "an com chua", "he dang danh em"):
        assert guess_locale(text) is None, text
    assert guess_locale("chồng em đánh em") == "vi"


async def test_a_typed_button_label_is_the_choice_even_if_the_classifier_sees_harm(
    services: Services,
) -> None:
    """'Read more' typed after an answer scored as a possible danger and asked "are you in danger?"."""
    user = secrets.token_hex(8)
    await services.engine.handle(InboundMessage("test", user, text="what is PrEP", locale="en"))
    outcome = await services.engine.handle(InboundMessage("test", user, text="Read more", locale="en"))
    said = "\n".join(reply.text for reply in outcome.replies)
    assert "Are you in danger right now?" not in said
    assert services.content.knowledge.articles["prep"].more.en.strip()[:60] in said
