"""Finding the province a person names ("o khanh hoa", "Nha Trang", "tp hcm")."""

from __future__ import annotations

import re
from functools import lru_cache

from bot.content.knowledge import Knowledge, Province
from bot.nlu import normalize


@lru_cache(maxsize=8)
def _patterns(provinces: tuple[Province, ...]) -> list[tuple[re.Pattern[str], Province]]:
    result = []
    for province in provinces:
        names = {normalize(province.name), *(normalize(a) for a in province.aliases)}
        names |= {normalize(m) for m in province.merged}
        for name in sorted((n for n in names if n), key=len, reverse=True):
            result.append((re.compile(rf"(?<!\w){re.escape(name)}(?!\w)"), province))
    result.sort(key=lambda item: len(item[0].pattern), reverse=True)
    return result


def find_province(text: str, knowledge: Knowledge) -> Province | None:
    """The province named in the text, by its name, a former name or a known alias."""
    norm = normalize(text)
    norm = re.sub(r"\b(tinh|thanh pho|tp)\b", " ", norm) + " " + norm
    for pattern, province in _patterns(tuple(knowledge.provinces)):
        if pattern.search(norm):
            return province
    return None
