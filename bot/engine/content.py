"""Loading all content (flows and knowledge) and checking them against each other and the engine."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from bot.content.fields import LOCALES, LocalText
from bot.content.flows import Flows, load_flows
from bot.content.knowledge import SERVICE_KINDS, Knowledge, load_knowledge, phone_key, phone_numbers_in
from bot.engine import (
    alerts,  # noqa: F401 (registers the actions of bad-client reports and alerts)
    checkin,  # noqa: F401 (registers the actions of safety check-ins)
    danger,  # noqa: F401 (registers the actions of "are you in danger right now?")
)
from bot.engine.actions import ACTIONS
from bot.errors import ContentError, ContentErrors
from bot.yamlfile import display_path, file_lines, line_with

# Strings the engine says itself; strings.yaml must have each, in both languages.
REQUIRED_STRINGS = (
    "welcome_short", "not_understood", "topic_guess", "no_words", "emoji_thanks", "unsupported", "unsupported_relayed",
    "unknown_choice", "too_long", "deleted", "quick_exit", "province_unknown", "exposure_unknown",
    "exposure_within", "exposure_within_voice", "exposure_edge", "exposure_edge_voice", "exposure_past",
    "exposure_past_voice", "services_found", "services_none_in_province", "services_none",
    "services_national", "flood_new_session", *(f"service_kind_{kind}" for kind in SERVICE_KINDS),
    "alerts_province_unknown", "alerts_number_unknown",
)  # fmt: skip
# Nodes the engine jumps to by name.
REQUIRED_NODES = ("welcome.start", "main.menu", "emergency.start", "danger.ask", "feedback.ask", "exposure.when", "choose.pick",
                  *(f"topics.{t}" for t in ("hiv_sti", "harm_reduction", "legal", "violence", "support")),
                  "alerts.alert", "alerts.alert_discreet", "alerts.question")  # fmt: skip


@dataclass(frozen=True)
class Content:
    flows: Flows
    knowledge: Knowledge


def load_content(flows_dir: Path, knowledge_dir: Path) -> Content:
    """Read and cross-check everything; raise :class:`ContentErrors` listing every mistake."""
    errors: list[ContentError] = []
    knowledge = None
    try:
        knowledge = load_knowledge(knowledge_dir)
    except ContentErrors as exc:
        errors.extend(exc.errors)
    try:
        flows = load_flows(
            flows_dir,
            article_ids=set(knowledge.articles) if knowledge is not None else None,
            actions=set(ACTIONS),
            required_strings=REQUIRED_STRINGS,
        )
    except ContentErrors as exc:
        errors.extend(exc.errors)
        raise ContentErrors(errors) from None
    for ref in REQUIRED_NODES:
        if ref not in flows.nodes:
            errors.append(ContentError(str(flows_dir), None, f"the engine needs the node `{ref}`"))
    root = flows_dir.parent
    errors.extend(_unknown_outcomes(flows, root))
    if knowledge is not None:
        errors.extend(_unknown_numbers(flows, knowledge, root, flows_dir / "strings.yaml"))
        errors.extend(_misspoken_numbers(flows, knowledge, root, flows_dir / "strings.yaml"))
    if errors or knowledge is None:
        raise ContentErrors(errors)
    return Content(flows=flows, knowledge=knowledge)


def _unknown_outcomes(flows: Flows, root: Path) -> list[ContentError]:
    """A branch on an outcome its action never gives would never be taken (a typo in routing by kind)."""
    found = []
    for node in flows.nodes.values():
        action = ACTIONS.get(node.action or "")
        if action is None or not action.outcomes:
            continue
        for outcome in node.branches:
            if outcome not in action.outcomes:
                known = ", ".join(action.outcomes)
                found.append(
                    ContentError(
                        node.path,
                        _line_of(root / node.path, f"{outcome}:", node.line),
                        f"`{node.ref}` branches on `{outcome}`, which action `{node.action}` never gives "
                        f"(it gives: {known})",
                    )
                )
    return found


def _flow_texts(
    flows: Flows, strings_path: str, *, voice: bool = False
) -> list[tuple[str, int, str, LocalText | None]]:
    """What the flows say, as (file, line, where, text): nodes' voice texts if asked, texts, then strings."""
    texts: list[tuple[str, int, str, LocalText | None]] = []
    if voice:
        texts += [(node.path, node.line, f"`{node.ref}`", node.voice) for node in flows.nodes.values()]
    texts += [(node.path, node.line, f"`{node.ref}`", node.text) for node in flows.nodes.values()]
    texts += [(strings_path, 1, f"string `{key}`", text) for key, text in flows.strings.items()]
    return texts


def _unknown_numbers(flows: Flows, knowledge: Knowledge, root: Path, strings: Path) -> list[ContentError]:
    """Every phone number the bot writes must be in the directory, as for articles.

    A wrong number in an emergency is worse than none.
    """
    texts = _flow_texts(flows, display_path(strings, root))
    known = knowledge.known_phones()
    found = []
    for path, line, where, text in texts:
        for locale in LOCALES:
            for number in phone_numbers_in(text.get(locale) if text is not None else ""):
                if phone_key(number) not in known:
                    found.append(
                        ContentError(
                            path,
                            _line_of(root / path, number, line),
                            f"phone number {number!r} in {where} is not in the directory "
                            "(knowledge/directory.yaml): add it there, with its source, or remove it",
                        )
                    )
    return found


def _misspoken_numbers(flows: Flows, knowledge: Knowledge, root: Path, strings: Path) -> list[ContentError]:
    """A number is spoken the way the directory speaks it (``voice_phone``), everywhere.

    A caller who hears "một một lăm" in one place and "một một năm" in another may doubt both; digits
    read one by one say "năm" (five), while "lăm" belongs inside numbers ("mười lăm").
    """
    wrong: dict[str, str] = {}
    for service in knowledge.services:
        spoken = service.voice_phone or ""
        if re.search(r"\bnăm\b", spoken):
            wrong[re.sub(r"\bnăm\b", "lăm", spoken)] = spoken
    texts = _flow_texts(flows, display_path(strings, root), voice=True)
    texts += [(a.path, 1, f"article `{a.id}`", a.voice) for a in knowledge.articles.values()]
    found = []
    for path, line, where, text in texts:
        said = text.vi if text is not None else ""
        for bad, right in wrong.items():
            if bad in said:
                found.append(
                    ContentError(
                        path,
                        _line_of(root / path, bad, line),
                        f"{where} says {bad!r}; the directory speaks this number as {right!r}: say it the "
                        "same way everywhere",
                    )
                )
    return found


def _line_of(path: Path, needle: str, after: int) -> int:
    """The line of ``needle`` in the file at or after line ``after`` (or ``after`` itself)."""
    return line_with(file_lines(path), needle, after) or after
