"""Loading all content (flows and knowledge) and checking them against each other and the engine."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bot.content.flows import Flows, load_flows
from bot.content.knowledge import SERVICE_KINDS, Knowledge, load_knowledge
from bot.engine import danger  # noqa: F401 (registers the actions of "are you in danger right now?")
from bot.engine.actions import ACTIONS
from bot.errors import ContentError, ContentErrors

# Strings the engine says itself; strings.yaml must have each, in both languages.
REQUIRED_STRINGS = (
    "welcome_short", "not_understood", "topic_guess", "no_words", "unsupported", "unsupported_relayed",
    "unknown_choice", "too_long", "deleted", "quick_exit", "province_unknown", "exposure_unknown",
    "exposure_within", "exposure_within_voice", "exposure_edge", "exposure_edge_voice", "exposure_past",
    "exposure_past_voice", "services_found", "services_none_in_province", "services_none",
    "services_national", "flood_new_session", *(f"service_kind_{kind}" for kind in SERVICE_KINDS),
)  # fmt: skip
# Nodes the engine jumps to by name.
REQUIRED_NODES = ("welcome.start", "main.menu", "emergency.start", "danger.ask", "feedback.ask", "exposure.when", "choose.pick",
                  *(f"topics.{t}" for t in ("hiv_sti", "harm_reduction", "legal", "violence", "support")))  # fmt: skip


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
    if errors or knowledge is None:
        raise ContentErrors(errors)
    return Content(flows=flows, knowledge=knowledge)
