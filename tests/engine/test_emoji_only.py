"""Messages of emoji only (issue 16: a lone "👍" got "I can only read text").

Every channel goes through the engine, so the web chat shows it, with one push channel (Telegram) for the
same answers delivered through the outbox. Danger read from emoji is the safety check's (🆘, 🔪 ...).
"""

from __future__ import annotations

import secrets

import httpx
import pytest
from sqlalchemy import select

from bot.engine.emoji import OTHER, SOS, THANKS, emoji_meaning
from bot.engine.safety import SafetyVerdict
from bot.nlu import Understanding
from bot.runtime import Services
from bot.store.models import Contact, Escalation, OutboxEvent
from tests.channels.test_webchat import post
from tests.engine.test_triage_levels import ASK_VI
from tests.support.db import count

MENU_VI = "Bạn cần hỗ trợ gì?"
THANKS_VI = "Dạ, cảm ơn bạn!"
PROMPT_VI = "Bạn gõ vài chữ cho mình biết bạn cần gì"
REFUSALS = ("chỉ đọc được", "only read")


@pytest.mark.parametrize(
    ("text", "meaning"),
    [
        ("👍", THANKS), ("👍🏽", THANKS), ("🙏", THANKS), ("❤️", THANKS), ("😊😊", THANKS), ("✅", THANKS),
        ("😢", OTHER), ("😭😭🙏", OTHER), ("💀", OTHER), ("???", OTHER), ("👨‍👩‍👧", OTHER),
        ("🆘", SOS), ("🙏🆘", SOS), ("🔪", SOS), ("😭🩸", SOS), ("🗡️", SOS), ("👍 ok", None), ("cảm ơn 🙏", None),
    ],
)  # fmt: skip
def test_what_a_message_of_emoji_says(text: str, meaning: str | None) -> None:
    assert emoji_meaning(text) == meaning


async def texts_for(client: httpx.AsyncClient, session: str, text: str) -> tuple[str, dict[str, object]]:
    data = await post(client, session=session, text=text)
    return " ".join(r["text"] for r in data["replies"]), data


@pytest.mark.parametrize("emoji", ["👍", "🙏", "❤️", "👌🏻"])
async def test_a_lone_acknowledgement_gets_a_kind_answer_and_the_menu(
    client: httpx.AsyncClient, services: Services, emoji: str
) -> None:
    session = secrets.token_hex(16)
    await post(client, session=session, event="start")
    text, data = await texts_for(client, session, emoji)
    assert THANKS_VI in text and MENU_VI in text
    assert not any(refusal in text for refusal in REFUSALS)
    replies = data["replies"]
    assert isinstance(replies, list) and replies[-1]["choices"], "the menu's choices"
    assert await count(services, Escalation) == 0


@pytest.mark.parametrize("emoji", ["😢", "😭😭🙏", "🤔", "...", "🌧️"])
async def test_other_emoji_get_a_friendly_prompt_never_the_only_text_refusal(
    client: httpx.AsyncClient, services: Services, emoji: str
) -> None:
    text, data = await texts_for(client, secrets.token_hex(16), emoji)
    assert PROMPT_VI in text
    assert not any(refusal in text for refusal in REFUSALS)
    replies = data["replies"]
    assert isinstance(replies, list) and replies[-1]["choices"], "the options are offered again"
    assert await count(services, Escalation) == 0


async def test_a_thumbs_up_to_are_you_in_danger_is_no_answer_the_question_is_asked_again(
    client: httpx.AsyncClient, services: Services
) -> None:
    session = secrets.token_hex(16)
    text, _ = await texts_for(client, session, "🔪")  # the model: a possible threat to life
    assert ASK_VI in text
    text, _ = await texts_for(client, session, "👍")
    assert THANKS_VI not in text and ASK_VI in text, "👍 may mean yes: asked again, not thanked"


class SeesNothing:
    """A safety check that finds no danger anywhere (a model that does not know 🆘)."""

    def check(self, understanding: Understanding) -> SafetyVerdict:
        return SafetyVerdict(emergency=False, score=0.0, kind=None, level="none")


async def test_a_knife_alone_is_never_less_than_are_you_in_danger(
    client: httpx.AsyncClient, services: Services
) -> None:
    services.engine.deps.safety = SeesNothing()
    text, _ = await texts_for(client, secrets.token_hex(16), "🔪")
    assert ASK_VI in text


async def test_sos_alone_is_never_less_than_are_you_in_danger(
    client: httpx.AsyncClient, services: Services
) -> None:
    """The model takes 🆘 for an emergency; with a model that sees nothing in it, it is still asked."""
    text, _ = await texts_for(client, secrets.token_hex(16), "🆘")
    assert "113" in text, "the emergency flow"
    assert (
        await count(services, OutboxEvent, OutboxEvent.kind == "page") + await count(services, Escalation) > 0
    )

    services.engine.deps.safety = SeesNothing()
    session = secrets.token_hex(16)
    text, _ = await texts_for(client, session, "🆘")
    assert ASK_VI in text
    async with services.sessionmaker() as db:
        contacts = list((await db.execute(select(Contact).order_by(Contact.id))).scalars())
    assert contacts[-1].possible_at is not None, "listed as a possible risk"
    text, _ = await texts_for(client, secrets.token_hex(16), "👍")
    assert ASK_VI not in text, "only 🆘 is raised, not every emoji"
