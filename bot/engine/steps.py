"""Running flow nodes: one small function per step type, registered by the type's name.

A step returns the node to run next, or ``None`` when it waits for the person (the conversation then
rests on that node) or when the conversation ended.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from bot.content.flows import CANDIDATES, Node
from bot.engine.actions import ACTIONS
from bot.engine.answers import FEEDBACK, article_choice, show_article
from bot.engine.turn import Turn
from bot.messages import Choice
from bot.store.contacts import append

log = logging.getLogger(__name__)

MAX_STEPS = 30
MAIN_MENU = "main.menu"

Step = Callable[[Turn, Node], Awaitable[str | None]]


def node_choices(turn: Turn, node: Node) -> tuple[Choice, ...]:
    """The choices a node offers, in order: its topic's articles first, then its own choices."""
    choices: list[Choice] = []
    knowledge = turn.deps.knowledge
    if node.articles == CANDIDATES:
        candidates = turn.context_get("candidates") or []
        assert isinstance(candidates, list)
        choices.extend(
            article_choice(turn, knowledge.articles[a]) for a in candidates if a in knowledge.articles
        )
    elif node.articles:
        choices.extend(article_choice(turn, a) for a in knowledge.menu(node.articles))
    choices.extend(Choice(id=node.choice_id(c), label=turn.text(c.label)) for c in node.choices)
    return tuple(choices)


async def _say(turn: Turn, node: Node) -> str | None:
    assert node.text is not None
    turn.say(turn.text(node.text), voice=turn.text(node.voice) if node.voice else None)
    return node.next


async def _wait(turn: Turn, node: Node) -> str | None:
    assert node.text is not None
    voice = turn.text(node.voice) if node.voice else None
    turn.say(turn.text(node.text), node_choices(turn, node), voice)
    turn.conversation.node = node.ref
    return None


async def _article(turn: Turn, node: Node) -> str | None:
    article = turn.deps.knowledge.articles[node.article or ""]
    after = show_article(turn, article)
    return node.next or after


async def _action(turn: Turn, node: Node) -> str | None:
    waiting = turn.conversation.node
    outcome = await ACTIONS[node.action or ""].run(turn, node.params, None)
    if turn.deleted:
        return None
    if outcome is not None and outcome in node.branches:
        return node.branches[outcome]
    if node.next is None and turn.conversation.node == waiting:
        turn.conversation.node = None  # (an action that ran a flow of its own keeps where that one waits)
    return node.next


STEPS: dict[str, Step] = {
    "say": _say,
    "menu": _wait,
    "ask": _wait,
    "article": _article,
    "action": _action,
}


async def run_from(turn: Turn, ref: str | None) -> None:
    """Run nodes from ``ref`` until one waits or the conversation ends."""
    flows = turn.deps.flows
    steps = 0
    while ref is not None and not turn.deleted:
        steps += 1
        if steps > MAX_STEPS:
            log.error("flow loop: more than %d steps without waiting, last node %s", MAX_STEPS, ref)
            ref = MAIN_MENU if steps <= MAX_STEPS + 1 else None
            continue
        node = flows.nodes.get(ref)
        if node is None:  # an article trigger or a stale state naming a node that was removed
            log.warning("no node %s: going to the main menu", ref)
            ref = MAIN_MENU
            continue
        append(turn.contact, "menu_path", node.ref)
        ref = await STEPS[node.type](turn, node)


async def answer_article(turn: Turn, article_id: str) -> None:
    """Show an article (or the node its trigger names) and continue with what follows it."""
    trigger = turn.deps.flows.triggers.get(article_id)
    if trigger is not None:
        await run_from(turn, trigger)
        return
    article = turn.deps.knowledge.articles[article_id]
    await run_from(turn, show_article(turn, article) or FEEDBACK)
