"""Broken characters never lose a message: cleaned before anything reads them (issue 12, item 6).

Before the fix a lone surrogate inside "cứu em" gave a 500 at the first encryption and no escalation.
"""

from __future__ import annotations

import json

import httpx
import pytest
from sqlalchemy import func, select

from bot.engine.clean import clean_text
from bot.runtime import Services
from bot.store.models import Escalation

JUNK = {
    "lone high surrogate": "\ud83d",
    "lone low surrogate": "\ude00",
    "reversed surrogates": "\udfff\ud800",
    "NUL": "\x00",
    "bell and escape": "\x07\x1b",
    "right-to-left override": "\u202e",
    "direction marks": "\u200e\u200f\u2066\u2069",
    "byte order mark": "\ufeff",
    "noncharacter": "\uffff",
}


@pytest.mark.parametrize("junk", JUNK.values(), ids=JUNK.keys())
def test_clean_text_leaves_only_what_encodes(junk: str) -> None:
    cleaned = clean_text(f"cứu{junk} em với")
    cleaned.encode("utf-8")  # would raise on a surrogate
    assert "cứu" in cleaned and "em với" in cleaned
    assert junk not in cleaned


def test_clean_text_keeps_what_people_meant() -> None:
    assert clean_text("😭 cứu\nem") == "😭 cứu\nem"
    assert clean_text("\ud83d\ude2d ok") == "😭 ok"  # a pair sent as two escapes is one emoji
    assert clean_text("👩\u200d👧") == "👩\u200d👧"  # a zero-width joiner inside an emoji stays
    assert clean_text("a\r\nb\rc") == "a\nb\nc"
    assert clean_text("c\u0301") == "ć"  # NFC


@pytest.mark.parametrize("junk", JUNK.values(), ids=JUNK.keys())
async def test_emergency_with_broken_characters_is_escalated(
    client: httpx.AsyncClient, services: Services, junk: str
) -> None:
    # json.dumps writes a lone surrogate as a \\ud83d escape, as a broken client would.
    body = json.dumps({"session": "clean-session-0001", "text": f"cứu em với{junk} chồng đang đánh em"})
    response = await client.post("/api/webchat", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 200
    assert "113" in response.json()["replies"][0]["text"]
    async with services.sessionmaker() as session:
        escalations = (await session.execute(select(func.count()).select_from(Escalation))).scalar_one()
    assert escalations == 1


async def test_only_broken_characters_is_refused_and_writes_nothing(
    client: httpx.AsyncClient, services: Services
) -> None:
    body = json.dumps({"session": "clean-session-0002", "text": "\ud800\x00\u202e"})
    response = await client.post("/api/webchat", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 422
    async with services.sessionmaker() as session:
        assert (await session.execute(select(func.count()).select_from(Escalation))).scalar_one() == 0
