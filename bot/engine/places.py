"""Finding the province a person names ("o khanh hoa", "Nha Trang", "tp hcm")."""

from __future__ import annotations

import re
from functools import lru_cache

from bot.content.knowledge import Knowledge, Province
from bot.nlu import normalize

_PREFIX = r"(?:(?:o|tai|tinh|thanh pho|tp)\s+)*"


@lru_cache(maxsize=8)
def _patterns(provinces: tuple[Province, ...]) -> list[tuple[str, re.Pattern[str], Province]]:
    """Each name (normalised) with its pattern and province, longest pattern first."""
    result = []
    for province in provinces:
        names = {normalize(province.name), *(normalize(a) for a in province.aliases)}
        names |= {normalize(m) for m in province.merged}
        for name in (n for n in names if n):
            result.append((name, re.compile(rf"(?<!\w){_PREFIX}{re.escape(name)}(?!\w)"), province))
    result.sort(key=lambda item: len(item[1].pattern), reverse=True)
    return result


_last: list[tuple[tuple[Province, ...], list[tuple[str, re.Pattern[str], Province]]]] = []


def _patterns_of(provinces: list[Province]) -> list[tuple[str, re.Pattern[str], Province]]:
    """:func:`_patterns` of the knowledge's provinces. The last ones asked for are compared item by item
    (the same objects: a pointer each), not hashed: hashing the cache's key (every province's names and
    aliases) cost a third of a call, 10 of 30 microseconds, on most web chat messages."""
    key = tuple(provinces)
    if _last and _last[0][0] == key:
        return _last[0][1]
    found = _patterns(key)
    _last[:] = [(key, found)]
    return found


def locate_province(
    text: str, knowledge: Knowledge, normalized: str | None = None
) -> tuple[Province | None, str]:
    """The province named in the text (by name, former name or alias), and the text without it;
    ``normalized``: ``normalize(text)`` when the caller has it already."""
    norm = normalize(text) if normalized is None else normalized
    for name, pattern, province in _patterns_of(knowledge.provinces):
        # a pattern matches only where its name is: a substring test (fast) skips most of them
        found = pattern.search(norm) if name in norm else None
        if found:
            rest = (norm[: found.start()] + " " + norm[found.end() :]).split()
            return province, " ".join(rest)
    return None, norm


def find_province(text: str, knowledge: Knowledge) -> Province | None:
    """The province named in the text, by its name, a former name or a known alias."""
    return locate_province(text, knowledge)[0]
