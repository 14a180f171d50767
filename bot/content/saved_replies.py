"""Saved replies for the counsellor's desk (``knowledge/saved_replies.yaml``): short texts in Vietnamese and
English that a counsellor inserts with one tap or a ``/`` shortcut, and edits before sending.

They are content like the articles: both languages, facts from FACTS.md, every phone number from the
directory (checked by :func:`bot.content.knowledge.load_knowledge`), a review status.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from bot.content.fields import Errors, LocalText, check_keys, get_local, get_str
from bot.yamlfile import LineDict, LineList, load_yaml

MAX_TEXT = 1000  # the reply box takes 4,000; a saved reply leaves room to write around it
MAX_TITLE = 60
SHORTCUT = re.compile(r"^/[a-z0-9]{2,16}$")
REPLY_ID = re.compile(r"^[a-z0-9][a-z0-9-]*$")
FIELDS = {"id", "shortcut", "title", "text", "sources", "review"}


@dataclass(frozen=True)
class SavedReply:
    """One saved reply."""

    id: str
    shortcut: str  # "/so": typed in the reply box then a space, it becomes the text
    title: LocalText  # the button's label
    text: LocalText
    sources: tuple[str, ...]
    review_status: str
    review_check: str | None
    line: int | None = None


def read_saved_replies(path: Path, root: Path, errors: Errors) -> list[SavedReply]:
    """Read and check the file; every mistake is added to ``errors`` with its line."""
    data = load_yaml(path, relative_to=root)
    if not isinstance(data, LineDict) or not isinstance(data.get("replies"), LineList):
        errors.add(1, "saved replies: the file needs `replies:`, a list (see knowledge/README.md)")
        return []
    check_keys(data, {"replies"}, errors, "the saved replies file")
    found: list[SavedReply] = []
    ids: set[str] = set()
    shortcuts: set[str] = set()
    for item in data["replies"]:
        if not isinstance(item, LineDict):
            errors.add(data.line, "each saved reply must be a mapping")
            continue
        check_keys(item, FIELDS, errors, "a saved reply")
        reply_id = get_str(item, "id", errors)
        if reply_id is not None and not REPLY_ID.match(reply_id):
            errors.at(item, "id", "a saved reply's id uses lower-case letters, digits and -")
        elif reply_id is not None and reply_id in ids:
            errors.at(item, "id", f"the id {reply_id!r} is used twice")
        shortcut = get_str(item, "shortcut", errors)
        if shortcut is not None and not SHORTCUT.match(shortcut):
            errors.at(
                item, "shortcut", "a shortcut is / then 2 to 16 lower-case letters or digits (no diacritics)"
            )
        elif shortcut is not None and shortcut in shortcuts:
            errors.at(item, "shortcut", f"the shortcut {shortcut!r} is used twice")
        title = get_local(item, "title", errors, max_len=MAX_TITLE)
        text = get_local(item, "text", errors, max_len=MAX_TEXT)
        sources = item.get("sources")
        if not isinstance(sources, list) or not sources or not all(isinstance(s, str) for s in sources):
            errors.at(
                item,
                "sources" if "sources" in item else "id",
                "`sources` must list where the facts come from",
            )
            sources = []
        status, check = _review(item, errors)
        if reply_id is None or shortcut is None or title is None or text is None:
            continue
        ids.add(reply_id)
        shortcuts.add(shortcut)
        found.append(
            SavedReply(reply_id, shortcut, title, text, tuple(sources), status, check, line=item.line)
        )
    return found


def _review(item: LineDict, errors: Errors) -> tuple[str, str | None]:
    review = item.get("review")
    if not isinstance(review, LineDict):
        errors.add(
            item.line, "`review` is missing: `{status: needed, check: ...}` or `{status: reviewed, by, date}`"
        )
        return "needed", None
    status = str(review.get("status"))
    if status == "needed":
        return status, get_str(review, "check", errors)
    if status == "reviewed":
        get_str(review, "by", errors)
        get_str(review, "date", errors)
        return status, None
    errors.at(review, "status", "`review.status` must be `needed` or `reviewed`")
    return "needed", None
