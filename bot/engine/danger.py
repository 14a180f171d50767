"""The middle level of triage: "are you in danger right now?" before paging anyone.

A message the safety check calls ``possible`` (a score above a low threshold, an injury word, a danger
phrase inside a question) is neither paged nor answered blindly. The engine keeps what it would have
answered (article ids and topic, never the text), records the possible risk on the contact (the console
lists it; nobody is paged) and runs ``danger.ask``: one tap for "yes, I need help now" (the emergency flow
and a page) or "no, I want information" (the answer it kept). Typed yes/no words work too, without
diacritics or in chat spelling.
"""

from __future__ import annotations

from typing import Any

from bot.engine.actions import action
from bot.engine.steps import MAIN_MENU, answer_article, run_from
from bot.engine.turn import Turn
from bot.metrics import POSSIBLE_RISKS, word
from bot.nlu import Understanding, normalize
from bot.topics import TOPICS

ASK = "danger.ask"
EMERGENCY = "emergency.start"
CHOOSE = "choose.pick"
PENDING = "pending"

YES = frozenset(
    normalize(word)
    for word in (
        "có", "co", "cos", "yes", "y", "yeah", "yep", "ừ", "uh", "vâng", "dạ có", "đúng", "đúng rồi",
        "cần", "cần giúp", "cứu", "help", "có nguy hiểm", "có, cần giúp", "1",
    )
)  # fmt: skip
NO = frozenset(
    normalize(word)
    for word in (
        "không", "ko", "k", "hông", "no", "nope", "không sao", "không có", "chưa", "em ổn", "tôi ổn",
        "mình ổn", "i am fine", "i'm fine", "im fine", "ổn", "không nguy hiểm", "chỉ hỏi thôi", "hỏi thôi",
        "2",
    )
)  # fmt: skip


def keep_pending(turn: Turn, understanding: Understanding, kind: str | None) -> None:
    """Remember what to answer if the person says no, and record the possible risk for the console."""
    turn.context_set(
        pending={
            "articles": [article_id for article_id, _ in understanding.articles],
            "confident": understanding.confident,
            "topic": understanding.topic,
        },
        possible_kind=kind,
    )
    note_possible(turn, kind)


def note_possible(turn: Turn, kind: str | None) -> None:
    """Record a possible risk on the contact: the console lists it (nobody is paged for it)."""
    contact = turn.contact
    if contact.possible_at is None:
        contact.possible_at = turn.now
        POSSIBLE_RISKS.labels(kind=word(kind) if kind else "none").inc()
    contact.possible_kind = kind
    contact.possible_answer = None


@action("danger_answer", "danger", "information", "unknown")
async def danger_answer(turn: Turn, params: dict[str, Any], text: str | None) -> str | None:
    """Read a typed answer to "are you in danger right now?" (the buttons go straight to their node).

    "ok" is neither: it may mean "I am OK" or "OK, yes"; the question is asked again.
    """
    said = normalize(text or "")
    if said in YES:
        return "danger"
    if said in NO:
        return "information"
    return "unknown"


@action("possible_danger", "answered")
async def possible_danger(turn: Turn, params: dict[str, Any], text: str | None) -> str | None:
    """The person said they are in danger now: record it (the emergency flow follows and pages)."""
    turn.contact.possible_answer = "danger"
    risk = turn.context_get("possible_kind")
    turn.context_set(risk=risk if isinstance(risk, str) else None, pending=None)
    return "answered"


@action("answer_pending", "answered")
async def answer_pending(turn: Turn, params: dict[str, Any], text: str | None) -> str | None:
    """The person wants information: give the answer kept when the question was asked."""
    turn.contact.possible_answer = "information"
    kept = turn.context_get(PENDING)
    pending: dict[str, Any] = kept if isinstance(kept, dict) else {}
    turn.context_set(pending=None)
    articles = [a for a in pending.get("articles", []) if a in turn.deps.knowledge.articles]
    topic = pending.get("topic")
    turn.conversation.node = None
    if articles and pending.get("confident"):
        await answer_article(turn, articles[0])
    elif articles:
        turn.context_set(candidates=articles)
        await run_from(turn, CHOOSE)
    elif topic in TOPICS:
        await run_from(turn, f"topics.{topic}")
    else:
        await run_from(turn, MAIN_MENU)
    return "answered"
