"""Phone keys for menu choices: 1-8 in order, fixed keys respected, long menus read in pages.

Three keys mean the same on every menu and are announced by the footer, not per choice: ``*`` repeats,
``0`` reaches a counsellor (a call-back request outside office hours), ``9`` is danger. A choice whose
fixed ``key`` is one of them is reached through that key. Other fixed keys (``1``-``8``, ``#``) are kept
for their choice, which is read on the first page; the other choices take the free keys of ``1``-``8``
in order. When they do not fit, the last free key is "more" and the rest follows on the next page.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from bot.content.flows import Flows
from bot.messages import Choice

REPEAT = "*"
COUNSELLOR = "0"
DANGER = "9"
GLOBAL_KEYS = frozenset({REPEAT, COUNSELLOR, DANGER})
MENU_KEYS = ("1", "2", "3", "4", "5", "6", "7", "8")
_ORDER = {key: index for index, key in enumerate((*MENU_KEYS, "#"))}


@dataclass(frozen=True)
class KeyedChoice:
    """A choice and the key that picks it."""

    key: str
    choice: Choice


@dataclass(frozen=True)
class MenuPage:
    """What one page of a menu offers: keyed choices, and the key for the next page (if any)."""

    options: tuple[KeyedChoice, ...]
    more_key: str | None
    page: int

    def choice_for(self, key: str) -> Choice | None:
        return next((o.choice for o in self.options if o.key == key), None)


def fixed_keys(flows: Flows) -> Callable[[str], str | None]:
    """A lookup from a choice id (``<node ref>:<id>``) to the fixed phone key its flow gives it."""
    keys = {node.choice_id(c): c.key for node in flows.nodes.values() for c in node.choices if c.key}
    return keys.get


def menu_page(choices: Sequence[Choice], fixed: Callable[[str], str | None], page: int = 0) -> MenuPage:
    """The keys of one page of a menu (``page`` past the end gives the last page)."""
    pinned: list[KeyedChoice] = []
    numbered: list[Choice] = []
    for choice in choices:
        key = fixed(choice.id)
        if key in GLOBAL_KEYS:
            continue
        if key is not None and all(p.key != key for p in pinned):
            pinned.append(KeyedChoice(key, choice))
        else:
            numbered.append(choice)
    free = [k for k in MENU_KEYS if all(p.key != k for p in pinned)]
    pages: list[list[Choice]] = []
    rest = numbered
    while rest:
        if len(rest) <= len(free) or len(free) < 2:
            pages.append(rest[: len(free)])
            break
        pages.append(rest[: len(free) - 1])
        rest = rest[len(free) - 1 :]
    page = max(0, min(page, len(pages) - 1))
    chunk = pages[page] if pages else []
    options = [KeyedChoice(key, choice) for key, choice in zip(free, chunk, strict=False)]
    more_key = free[-1] if page < len(pages) - 1 else None
    if page == 0:
        options = sorted(pinned + options, key=lambda o: _ORDER.get(o.key, len(_ORDER)))
    return MenuPage(tuple(options), more_key, page)
