"""What the phone line knows between two requests of one call.

* :class:`Caller` comes from Twilio's form on every request (the call's id, the caller's number). The
  number is handed to the engine, which keeps only a keyed hash of it; it is never logged, and its
  ``repr`` hides it.
* :class:`CallState` is the little the phone line must remember between requests (which engine turn
  is on the line, which page of a menu, how many tries, which counsellor is being rung). It travels in
  the callback URLs as plain numbers: no caller data, and every request is signed by Twilio over the
  whole URL, so it cannot be altered.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import Self

from bot.errors import BadInput

# Matched whole (fullmatch): "$" would also match before a final newline.
CALL_SID = re.compile(r"CA[0-9a-fA-F]{32}")
DIALABLE = re.compile(r"\+?[0-9]{6,15}")
STATE_NUMBER = re.compile(r"[0-9]{1,11}")  # ASCII digits: str.isdigit() also takes "²", which int() refuses
# How Twilio writes a withheld caller id ("ANONYMOUS", "UNKNOWN", ... on a phone keypad).
WITHHELD = frozenset({"+266696687", "+8656696", "+86282452253", "+7378742833", "+2562533"})
KINDS = ("", "emergency", "counsellor", "after_hours", "possible", "checkin")
MAX_STATE_NUMBER = 10**10
OUTBOUND = "outbound-api"  # Twilio's Direction for a call placed through the REST API (a call-back)


def _number_of(raw: str | None) -> str | None:
    """The caller's number, or None when it is withheld or not a phone number."""
    if not raw:
        return None
    value = raw.strip()
    if value.lower().startswith("sip:"):  # calls over a SIP trunk: sip:+8490...@carrier
        value = value[4:].split("@", 1)[0].split(";", 1)[0]
    if value in WITHHELD or not DIALABLE.fullmatch(value):
        return None
    return value


@dataclass(frozen=True)
class Caller:
    """One call, as Twilio describes it on each request."""

    call_sid: str
    number: str | None  # None when the number is withheld: then no call-back is possible
    hotline: str | None  # the number the person dialled (ours)

    @classmethod
    def from_form(cls, form: Mapping[str, str]) -> Caller:
        """The call of a request; on a call the hotline placed (a check-in call-back, Twilio's
        ``Direction`` ``outbound-api``) the person is the one called (``To``), the hotline ``From``."""
        call_sid = form.get("CallSid", "")
        if not CALL_SID.fullmatch(call_sid):
            raise BadInput("CallSid is missing or malformed")
        if form.get("Direction") == OUTBOUND:
            return cls(call_sid, _number_of(form.get("To")), _number_of(form.get("From")))
        hotline = _number_of(form.get("To")) or _number_of(form.get("Called"))
        return cls(call_sid, _number_of(form.get("From")), hotline)

    @property
    def user_id(self) -> str:
        """What the engine hashes into the person's key: the number, or this call alone if withheld."""
        return self.number or f"withheld:{self.call_sid}"

    def transport_id(self, turn: int) -> str:
        """The id of this call's ``turn``-th message to the engine (a repeat of it is a duplicate)."""
        return f"{self.call_sid}:{turn}"

    def __repr__(self) -> str:
        return f"Caller(call_sid={self.call_sid!r}, number=<hidden>)"


@dataclass(frozen=True)
class CallState:
    """The numbers carried in a callback URL.

    ``shown`` is the engine turn whose replies are on the line (replayed for ``*`` and to read keys),
    ``next`` the number of the next turn, ``page`` the menu page, ``tries`` the silences or wrong keys
    so far; for a counsellor being rung, ``kind``, ``ring`` (which number of the list) and ``since``
    (when the caller asked, in seconds since 1970). ``speech`` is 1 when the ``<Gather>`` that posts to
    this URL listened for speech too: a ``SpeechResult`` is read only then. On a check-in call-back,
    ``checkin`` is the check-in's id and ``attempt`` which call of it this is (1 or 2).
    """

    shown: int = 0
    next: int = 1
    page: int = 0
    tries: int = 0
    kind: str = ""
    ring: int = 0
    since: int = 0
    speech: int = 0
    checkin: int = 0
    attempt: int = 0

    def query(self) -> dict[str, str]:
        """The state as query parameters (defaults left out)."""
        default = CallState()
        return {
            f.name: str(getattr(self, f.name))
            for f in fields(self)
            if getattr(self, f.name) != getattr(default, f.name)
        }

    @classmethod
    def from_query(cls, params: Mapping[str, str]) -> CallState:
        values: dict[str, int | str] = {}
        for f in fields(cls):
            raw = params.get(f.name)
            if raw is None:
                continue
            if f.name == "kind":
                if raw not in KINDS:
                    raise BadInput("unknown kind in the callback URL")
                values[f.name] = raw
                continue
            if not STATE_NUMBER.fullmatch(raw) or int(raw) > MAX_STATE_NUMBER:
                raise BadInput(f"`{f.name}` in the callback URL must be a small number")
            values[f.name] = int(raw)
        return cls(**values)  # type: ignore[arg-type]

    def turn_taken(self) -> Self:
        """After a new engine turn: it is on the line, at its first page, with no tries yet."""
        return replace(self, shown=self.next, next=self.next + 1, page=0, tries=0)

    def turn_skipped(self) -> Self:
        """After an engine turn that said nothing: the old one stays on the line, the number is used."""
        return replace(self, next=self.next + 1, tries=0)
