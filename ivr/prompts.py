"""The phone line's own sentences, read from ``ivr/prompts.yaml`` (content, not code).

Every prompt the phone line needs must be there in Vietnamese and English; a mistake is reported with
the file and line, like the flows, and stops the start.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bot.content.fields import Errors, LocalText, check_keys, get_local, get_str
from bot.errors import ContentErrors
from bot.yamlfile import LineDict, LineList, display_path, load_yaml
from ivr.spoken import spell_digits

PROMPTS_FILE = Path(__file__).resolve().with_name("prompts.yaml")
SPEC_VERSION = 1
REQUIRED = (
    "option", "more", "footer", "footer_after_hours", "silence", "wrong_key", "goodbye", "end",
    "connecting_emergency", "connecting_counsellor", "connecting_next", "after_counsellor",
    "nobody_emergency", "nobody_counsellor", "after_hours", "callback_offer", "callback_unavailable",
    "offer_footer", "callback_done", "possible_danger", "checkin_offer", "checkin_unavailable",
    "checkin_off", "checkin_set", "checkin_ask", "checkin_safe", "checkin_missed", "checkin_missed_last",
)  # fmt: skip


@dataclass(frozen=True)
class EmergencyNumber:
    """A number said when nobody answers an emergency, with what it is for."""

    number: str
    name: LocalText


@dataclass(frozen=True)
class Prompts:
    """The phone line's sentences by key, and the emergency numbers it reads out."""

    texts: dict[str, LocalText]
    emergency_numbers: tuple[EmergencyNumber, ...]

    def text(self, name: str, locale: str, **values: object) -> str:
        return self.texts[name].get(locale).format(**values)

    def has_values(self, name: str) -> bool:
        """Whether the prompt has ``{placeholders}`` (then no recording can stand for it)."""
        text = self.texts[name]
        return "{" in text.vi or "{" in text.en

    def numbers_spoken(self, locale: str) -> str:
        """The emergency numbers for the ear: "công an, một một ba; cấp cứu, một một năm; ..."."""
        return "; ".join(
            f"{n.name.get(locale)}, {spell_digits(n.number, locale)}" for n in self.emergency_numbers
        )


def load_prompts(path: Path = PROMPTS_FILE) -> Prompts:
    """Read and check the prompts; raise :class:`ContentErrors` naming every mistake."""
    errors = Errors(display_path(path, path.parent.parent))
    data = load_yaml(path, relative_to=path.parent.parent)
    if not isinstance(data, LineDict):
        errors.add(1, "prompts.yaml must be a mapping with `spec`, `prompts` and `emergency_numbers`")
        raise ContentErrors(errors.found)
    check_keys(data, {"spec", "prompts", "emergency_numbers"}, errors, "prompts.yaml")
    if data.get("spec") != SPEC_VERSION:
        errors.at(data, "spec", f"`spec` must be {SPEC_VERSION}")
    texts: dict[str, LocalText] = {}
    raw = data.get("prompts")
    if isinstance(raw, LineDict):
        for key in raw:
            text = get_local(raw, key, errors)
            if text is not None:
                texts[key] = text
        for key in REQUIRED:
            if key not in raw:
                errors.at(data, "prompts", f"the phone line needs the prompt `{key}`")
    else:
        errors.at(data, "prompts", "`prompts` must map a key to {vi, en}")
    numbers: list[EmergencyNumber] = []
    raw_numbers = data.get("emergency_numbers")
    if isinstance(raw_numbers, LineList) and raw_numbers:
        for index, item in enumerate(raw_numbers):
            if not isinstance(item, LineDict):
                errors.add(raw_numbers.line_of(index), "each emergency number needs `number` and `name`")
                continue
            check_keys(item, {"number", "name"}, errors, "an emergency number")
            number = get_str(item, "number", errors)
            name = get_local(item, "name", errors)
            if number is not None and not number.replace(" ", "").isdigit():
                errors.at(item, "number", "`number` must be digits (spaces allowed between groups)")
            elif number is not None and name is not None:
                numbers.append(EmergencyNumber(number, name))
    else:
        errors.at(data, "emergency_numbers", "`emergency_numbers` must list at least one number")
    if errors.found:
        raise ContentErrors(errors.found)
    return Prompts(texts, tuple(numbers))
