"""Showing knowledge: an article's answer, its longer part, and the services to go to."""

from __future__ import annotations

from bot.content.knowledge import Article, Service
from bot.engine.turn import Turn
from bot.messages import Choice
from bot.store.contacts import add_unique

FEEDBACK = "feedback.ask"
EXPOSURE = "exposure.when"


def article_choice(turn: Turn, article: Article) -> Choice:
    return Choice(id=f"a:{article.id}", label=article.short.get(turn.locale))


def show_article(turn: Turn, article: Article) -> str:
    """Say the article's answer; return the node that follows (the exposure clock or feedback)."""
    turn.say(turn.text(article.answer), voice=turn.text(article.voice))
    turn.context_set(article=article.id, referral=article.referral)
    add_unique(turn.contact, "articles", article.id)
    add_unique(turn.contact, "topics", article.topic)
    province = turn.context_get("province")
    if article.referral and isinstance(province, str):
        show_services(turn, article.referral, province)
    return EXPOSURE if article.exposure else FEEDBACK


def show_more(turn: Turn, article: Article) -> None:
    related = [turn.deps.knowledge.articles[r] for r in article.related if r in turn.deps.knowledge.articles]
    choices = tuple(article_choice(turn, a) for a in related[:4])
    turn.say(turn.text(article.more), choices=choices)


def describe(turn: Turn, service: Service) -> tuple[str, str]:
    """A service as a line of text and as a spoken line."""
    name = service.name.get(turn.locale)
    parts = [name]
    if service.phone:
        parts.append(service.phone)
    if service.hours:
        parts.append(service.hours.get(turn.locale))
    if service.address:
        parts.append(service.address)
    text = " · ".join(parts)
    if service.notes:
        text += f"\n  {service.notes.get(turn.locale)}"
    spoken = name + (f", {service.voice_phone}" if service.voice_phone else "")
    return text, spoken


def show_services(turn: Turn, kind: str, province: str | None) -> bool:
    """List the services of a kind in a province (or national ones); say honestly when there are none.

    Returns whether a local service was found.
    """
    knowledge = turn.deps.knowledge
    add_unique(turn.contact, "referrals", kind)
    kind_label = turn.string(f"service_kind_{kind}")
    local = [s for s in knowledge.services_for(kind, province) if province] if province else []
    national = [s for s in knowledge.services_for(kind, "national")]
    lines: list[str] = []
    spoken: list[str] = []
    if local:
        lines.append(turn.string("services_found", kind=kind_label, province=province))
    elif province:
        lines.append(turn.string("services_none_in_province", kind=kind_label, province=province))
    else:
        lines.append(turn.string("services_none", kind=kind_label))
    for service in local or national:
        text, voice = describe(turn, service)
        lines.append(f"• {text}")
        spoken.append(voice)
    if not local:
        fallback = [s for s in knowledge.national() if s not in national]
        if not national and fallback:
            lines.append(turn.string("services_national"))
            for service in fallback:
                text, voice = describe(turn, service)
                lines.append(f"• {text}")
                spoken.append(voice)
    turn.say("\n".join(lines), voice=". ".join([lines[0], *spoken]))
    return bool(local)
