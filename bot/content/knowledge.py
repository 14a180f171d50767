"""The knowledge base: articles (``knowledge/articles/*.yaml``), the referral directory and provinces.

The format is documented in ``knowledge/README.md``; every rule there is checked here, and each
mistake names its file and line.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path

from bot.content.fields import Errors, LocalText, check_keys, get_local, get_str
from bot.content.freshness import Replacement, read_replaced, replaced_citations
from bot.content.saved_replies import SavedReply, read_saved_replies
from bot.errors import ContentError, ContentErrors
from bot.topics import TOPICS
from bot.yamlfile import LineDict, LineList, display_path, file_lines, line_with, load_yaml

ARTICLE_ID = re.compile(r"^[a-z0-9][a-z0-9-]*$")
MAX_ANSWER = 700
MAX_VOICE = 350
MAX_MORE = 2000
MAX_SHORT = 40
MIN_VI_EXAMPLES = 8
MIN_EN_EXAMPLES = 3
SERVICE_KINDS = (
    "emergency",
    "hotline",
    "hiv_testing",
    "prep",
    "methadone",
    "sti_clinic",
    "legal_aid",
    "shelter",
    "peer_group",
)
# What a Vietnamese phone number looks like: a 3-digit service code (111-115), a 1800/1900 line, or a
# number starting with 0 or +84 (9-11 digits). Fines ("300.000"), years and law articles do not match.
PHONE = re.compile(
    r"(?<![\d.,/])(?:11[1-5]|1[89]00[ .]?\d{2,3}[ .]?\d{2,4}|(?:\+84|0)(?:[ .-]?\d){8,10})(?![\d/])"
)
URL = re.compile(r"https?://|www\.", re.IGNORECASE)
ARTICLE_FIELDS = {
    "id", "topic", "title", "short", "answer", "voice", "more", "examples", "related", "menu",
    "referral", "exposure", "sources", "review", "checked",
}  # fmt: skip


def phone_key(text: str) -> str:
    """A phone number reduced to its digits, for comparing how it is written."""
    return re.sub(r"\D", "", text)


def phone_numbers_in(text: str) -> list[str]:
    """The phone numbers written in a text."""
    return [match.group(0).strip() for match in PHONE.finditer(text)]


@dataclass(frozen=True)
class Article:
    """One answer, in both languages."""

    id: str
    topic: str
    title: LocalText
    short: LocalText
    answer: LocalText
    voice: LocalText
    more: LocalText
    examples: dict[str, tuple[str, ...]]
    related: tuple[str, ...]
    sources: tuple[str, ...]
    review_status: str
    review_check: str | None
    checked: dt.date | None = None  # the day its facts were last checked against their sources
    menu: int | None = None
    referral: str | None = None
    exposure: bool = False
    path: str = ""


@dataclass(frozen=True)
class Service:
    """One entry of the referral directory."""

    id: str
    name: LocalText
    kind: str
    province: str
    phone: str | None
    voice_phone: str | None
    address: str | None
    hours: LocalText | None
    notes: LocalText | None
    languages: tuple[str, ...]


@dataclass(frozen=True)
class Province:
    name: str
    aliases: tuple[str, ...]
    merged: tuple[str, ...]


@dataclass
class Knowledge:
    """Everything in ``knowledge/`` the engine answers from."""

    articles: dict[str, Article]
    services: list[Service]
    provinces: list[Province]
    review_needed: list[Article] = field(default_factory=list)
    replaced: list[Replacement] = field(default_factory=list)
    saved_replies: list[SavedReply] = field(default_factory=list)  # the counsellor's desk

    def by_topic(self, topic: str) -> list[Article]:
        return [a for a in self.articles.values() if a.topic == topic]

    def menu(self, topic: str) -> list[Article]:
        listed = [a for a in self.by_topic(topic) if a.menu is not None]
        return sorted(listed, key=lambda a: (a.menu or 0, a.id))

    def services_for(self, kind: str, province: str | None) -> list[Service]:
        return [s for s in self.services if s.kind == kind and (province is None or s.province == province)]

    def national(self, kinds: tuple[str, ...] = ("emergency", "hotline")) -> list[Service]:
        return [s for s in self.services if s.province == "national" and s.kind in kinds]

    def known_phones(self) -> set[str]:
        return {phone_key(s.phone) for s in self.services if s.phone}


def _examples(data: LineDict, errors: Errors) -> dict[str, tuple[str, ...]]:
    raw = data.get("examples")
    if not isinstance(raw, LineDict):
        errors.add(data.line, "`examples` is missing (it needs `vi` and `en` lists)")
        return {}
    result: dict[str, tuple[str, ...]] = {}
    for locale, minimum in (("vi", MIN_VI_EXAMPLES), ("en", MIN_EN_EXAMPLES)):
        items = raw.get(locale)
        if not isinstance(items, list) or not all(isinstance(i, str) and i.strip() for i in items):
            errors.at(
                raw, locale if locale in raw else "examples", f"`examples.{locale}` must be a list of texts"
            )
            continue
        if len(items) < minimum:
            errors.at(raw, locale, f"`examples.{locale}` has {len(items)}; at least {minimum} are needed")
        result[locale] = tuple(i.strip() for i in items)
    return result


def _read_article(path: Path, root: Path, errors: Errors) -> Article | None:
    data = load_yaml(path, relative_to=root)
    if not isinstance(data, LineDict):
        errors.add(1, "an article must be a mapping (see knowledge/README.md)")
        return None
    check_keys(data, ARTICLE_FIELDS, errors, "an article")
    article_id = get_str(data, "id", errors)
    if article_id is not None and article_id != path.stem:
        errors.at(data, "id", f"`id` must be the file's name, {path.stem!r}")
    if article_id is not None and not ARTICLE_ID.match(article_id):
        errors.at(data, "id", "an article id uses lower-case letters, digits and -")
    topic = get_str(data, "topic", errors)
    if topic is not None and topic not in TOPICS:
        errors.at(data, "topic", f"`topic` must be one of {', '.join(TOPICS)}")
    title = get_local(data, "title", errors)
    short = get_local(data, "short", errors, required=False, max_len=MAX_SHORT)
    answer = get_local(data, "answer", errors, max_len=MAX_ANSWER)
    voice = get_local(data, "voice", errors, max_len=MAX_VOICE)
    more = get_local(data, "more", errors, max_len=MAX_MORE)
    if voice is not None:
        raw_voice = data["voice"]
        for locale in ("vi", "en"):
            text = voice.get(locale)
            if re.search(r"\d", text):
                errors.at(raw_voice, locale, f"`voice.{locale}` has digits: write numbers in words")
            if URL.search(text):
                errors.at(raw_voice, locale, f"`voice.{locale}` has a web address: it cannot be spoken")
    examples = _examples(data, errors)
    related = data.get("related", [])
    if not isinstance(related, list) or not all(isinstance(r, str) for r in related):
        errors.at(data, "related", "`related` must be a list of article ids")
        related = []
    sources = data.get("sources")
    if not isinstance(sources, list) or not sources or not all(isinstance(s, str) for s in sources):
        errors.at(
            data, "sources" if "sources" in data else "id", "`sources` must list where the facts come from"
        )
        sources = []
    review = data.get("review")
    status, check = "needed", None
    if not isinstance(review, LineDict):
        errors.add(
            data.line, "`review` is missing: `{status: needed, check: ...}` or `{status: reviewed, by, date}`"
        )
    else:
        status = str(review.get("status"))
        if status == "needed":
            check = get_str(review, "check", errors)
        elif status == "reviewed":
            get_str(review, "by", errors)
            get_str(review, "date", errors)
        else:
            errors.at(review, "status", "`review.status` must be `needed` or `reviewed`")
    checked = _read_date(data, "checked", errors)
    menu = data.get("menu")
    if menu is not None and (not isinstance(menu, int) or isinstance(menu, bool)):
        errors.at(data, "menu", "`menu` must be a whole number (the order in the topic's menu)")
        menu = None
    referral = data.get("referral")
    if referral is not None and referral not in SERVICE_KINDS:
        errors.at(data, "referral", f"`referral` must be a directory kind: {', '.join(SERVICE_KINDS)}")
    exposure = data.get("exposure", False)
    if not isinstance(exposure, bool):
        errors.at(data, "exposure", "`exposure` must be true or false")
    if None in (article_id, topic, title, answer, voice, more) or not examples:
        return None
    assert article_id and topic and title and answer and voice and more  # for the type checker
    return Article(
        id=article_id,
        topic=topic,
        title=title,
        short=short or title,
        answer=answer,
        voice=voice,
        more=more,
        examples=examples,
        related=tuple(related),
        sources=tuple(sources),
        review_status=status,
        review_check=check,
        checked=checked,
        menu=menu,
        referral=referral,
        exposure=bool(exposure),
        path=errors.path,
    )


def _read_date(data: LineDict, key: str, errors: Errors) -> dt.date | None:
    """A required ``YYYY-MM-DD`` date (YAML reads it as a date; quoted, it is parsed)."""
    value = data.get(key)
    if value is None:
        errors.add(data.line, f"`{key}` is missing: the day the facts were last checked, as YYYY-MM-DD")
        return None
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, str):
        with contextlib.suppress(ValueError):
            value = dt.date.fromisoformat(value.strip())
    if not isinstance(value, dt.date):
        errors.at(data, key, f"`{key}` must be a date written YYYY-MM-DD")
        return None
    return value


def _read_services(path: Path, root: Path, errors: Errors) -> list[Service]:
    data = load_yaml(path, relative_to=root)
    if not isinstance(data, LineDict) or not isinstance(data.get("services"), LineList):
        errors.add(1, "directory.yaml must have a `services` list")
        return []
    services: list[Service] = []
    seen: set[str] = set()
    allowed = {"id", "name", "kind", "province", "address", "phone", "voice_phone", "hours", "languages",
               "notes", "source"}  # fmt: skip
    for item in data["services"]:
        if not isinstance(item, LineDict):
            errors.add(data.line, "each service must be a mapping")
            continue
        check_keys(item, allowed, errors, "a service")
        sid = get_str(item, "id", errors)
        name = get_local(item, "name", errors)
        kind = get_str(item, "kind", errors)
        province = get_str(item, "province", errors)
        get_str(item, "source", errors)
        if kind is not None and kind not in SERVICE_KINDS:
            errors.at(item, "kind", f"`kind` must be one of {', '.join(SERVICE_KINDS)}")
        if sid in seen:
            errors.at(item, "id", f"service id {sid!r} appears twice")
        phone = item.get("phone")
        voice_phone = item.get("voice_phone")
        if phone is not None and voice_phone is None:
            errors.at(item, "phone", "a service with a `phone` needs `voice_phone` (the number in words)")
        if voice_phone is not None and re.search(r"\d", str(voice_phone)):
            errors.at(item, "voice_phone", "`voice_phone` must be written in words, not digits")
        if sid is None or name is None or kind is None or province is None:
            continue
        seen.add(sid)
        languages = item.get("languages", ["vi"])
        services.append(
            Service(
                id=sid,
                name=name,
                kind=kind,
                province=province,
                phone=None if phone is None else str(phone),
                voice_phone=None if voice_phone is None else str(voice_phone),
                address=None if item.get("address") is None else str(item["address"]),
                hours=get_local(item, "hours", errors, required=False),
                notes=get_local(item, "notes", errors, required=False),
                languages=tuple(str(x) for x in languages) if isinstance(languages, list) else ("vi",),
            )
        )
    return services


def _read_provinces(path: Path, root: Path, errors: Errors) -> list[Province]:
    data = load_yaml(path, relative_to=root)
    if not isinstance(data, LineDict) or not isinstance(data.get("provinces"), LineList):
        errors.add(1, "provinces.yaml must have a `provinces` list")
        return []
    result = []
    for item in data["provinces"]:
        if not isinstance(item, LineDict):
            errors.add(data.line, "each province must be a mapping with `name` and `aliases`")
            continue
        name = get_str(item, "name", errors)
        aliases = item.get("aliases", [])
        merged = item.get("merged", [])
        if name is None:
            continue
        if not isinstance(aliases, list) or not isinstance(merged, list):
            errors.at(item, "name", "`aliases` and `merged` must be lists")
            continue
        result.append(Province(name, tuple(str(a) for a in aliases), tuple(str(m) for m in merged)))
    return result


def load_knowledge(knowledge_dir: Path, *, root: Path | None = None) -> Knowledge:
    """Read and check everything in ``knowledge/``; raise :class:`ContentErrors` listing every mistake."""
    root = root or knowledge_dir.parent
    found: list[ContentError] = []
    articles: dict[str, Article] = {}

    def read(path: Path, reader):  # type: ignore[no-untyped-def]
        errors = Errors(display_path(path, root))
        try:
            value = reader(path, root, errors)
        except ContentError as exc:
            found.append(exc)
            return None
        found.extend(errors.found)
        return value

    for path in sorted((knowledge_dir / "articles").glob("*.yaml")):
        article = read(path, _read_article)
        if article is not None:
            articles[article.id] = article
    directory = knowledge_dir / "directory.yaml"
    services = (read(directory, _read_services) or []) if directory.exists() else []
    provinces_path = knowledge_dir / "provinces.yaml"
    provinces = (read(provinces_path, _read_provinces) or []) if provinces_path.exists() else []
    replaced_path = knowledge_dir / "replaced.yaml"
    replaced = (read(replaced_path, read_replaced) or []) if replaced_path.exists() else []
    found.extend(replaced_citations(articles.values(), replaced, root))
    saved_path = knowledge_dir / "saved_replies.yaml"
    saved = (read(saved_path, read_saved_replies) or []) if saved_path.exists() else []

    known = {phone_key(s.phone) for s in services if s.phone}
    for article in articles.values():
        for ref in article.related:
            if ref not in articles:
                found.append(
                    ContentError(article.path, None, f"`related` names `{ref}`, which does not exist")
                )
        for part in ("answer", "more", "title"):
            text: LocalText = getattr(article, part)
            for locale in ("vi", "en"):
                for number in phone_numbers_in(text.get(locale)):
                    if phone_key(number) not in known:
                        found.append(
                            ContentError(
                                article.path,
                                line_with(file_lines(root / article.path), number),
                                f"phone number {number!r} in `{part}.{locale}` is not in the directory "
                                "(knowledge/directory.yaml): add it there, with its source, or remove it",
                            )
                        )
    saved_lines = file_lines(saved_path) if saved else []
    for reply in saved:
        for locale in ("vi", "en"):
            for number in phone_numbers_in(reply.text.get(locale)):
                if phone_key(number) not in known:
                    found.append(
                        ContentError(
                            display_path(saved_path, root),
                            line_with(saved_lines, number, reply.line or 1),
                            f"phone number {number!r} in the saved reply `{reply.id}` ({locale}) is not in the "
                            "directory (knowledge/directory.yaml): add it there, with its source, or remove it",
                        )
                    )
    if found:
        raise ContentErrors(found)
    review_needed = sorted((a for a in articles.values() if a.review_status == "needed"), key=lambda a: a.id)
    return Knowledge(
        articles=articles,
        services=services,
        provinces=provinces,
        review_needed=review_needed,
        replaced=replaced,
        saved_replies=saved,
    )
