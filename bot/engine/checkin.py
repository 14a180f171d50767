"""The actions of safety check-ins (flows/checkin.yaml): set one, add a note, extend, cancel, answer.

The timers and what happens at the time are in :mod:`bot.escalation.checkins`; the rows in
:mod:`bot.store.checkins`. Outcomes end in ``_discreet`` when the person chose discreet wording, so the
flow says the same thing without "safety" or "client" (the ``*_discreet`` nodes).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.engine.actions import action
from bot.engine.checkin_notes import TIME, clock_time
from bot.engine.timeparse import minutes_from_now
from bot.engine.turn import Turn
from bot.store import checkins
from bot.store.models import Checkin

DISCREET = "checkin_discreet"  # context: the person chose discreet wording
SUFFIX = "_discreet"


def _worded(turn: Turn, outcome: str, checkin: Checkin | None = None) -> str:
    discreet = checkin.discreet if checkin is not None else bool(turn.context_get(DISCREET))
    return outcome + SUFFIX if discreet else outcome


def _tab_only(turn: Turn) -> bool:
    """The web chat cannot write to a closed tab: it says so when a check-in is set there."""
    return turn.conversation.channel not in turn.deps.push_channels


@action("checkin_status", "running", "running_discreet", "new", "new_discreet", "tab", "tab_discreet", "call")
async def checkin_status(turn: Turn, params: dict[str, Any], text: str | None) -> str | None:
    """Whether a check-in is running (then: change it), else a new one: on the web chat, first the
    warning that it works only while the page stays open (``tab``). A phone call (a message with a
    transport session) goes its own way (``call``): the phone line sets check-ins by keys."""
    if turn.message.session_id is not None:
        return "call"
    running = await checkins.active(turn.session, turn.conversation.id)
    if running is not None:
        turn.context_set(**{TIME: clock_time(turn, running.due_at)})
        return _worded(turn, "running", running)
    return _worded(turn, "tab" if _tab_only(turn) else "new")


@action("checkin_discreet")
async def checkin_discreet(turn: Turn, params: dict[str, Any], text: str | None) -> str | None:
    """Discreet wording on (``params.on: false`` turns it off); the running check-in follows."""
    on = bool(params.get("on", True))
    turn.context_set(**{DISCREET: True if on else None})
    running = await checkins.active(turn.session, turn.conversation.id)
    if running is not None:
        running.discreet = on
    return None


@action("checkin_time", "set", "set_discreet", "unknown")
async def checkin_time(turn: Turn, params: dict[str, Any], text: str | None) -> str | None:
    """Set a check-in ``params.minutes`` (a button) or the typed length of time from now."""
    settings = turn.deps.settings
    minutes: float | None
    if params.get("minutes") is not None:
        minutes = float(params["minutes"])
    else:
        minutes = minutes_from_now(text or "", turn.now, ZoneInfo(settings.timezone))
    if minutes is None:
        turn.say(turn.string("checkin_time_unknown"))
        return "unknown"
    if minutes > settings.checkin_max_hours * 60 or minutes < 1:
        turn.say(turn.string("checkin_time_range", hours=f"{settings.checkin_max_hours:g}"))
        return "unknown"
    due_at = turn.now + timedelta(minutes=minutes)
    checkin = await checkins.set_checkin(
        turn.session,
        turn.deps.crypto,
        conversation=turn.conversation,
        contact=turn.contact,
        due_at=due_at,
        now=turn.now,
        discreet=bool(turn.context_get(DISCREET)),
    )
    turn.context_set(**{TIME: clock_time(turn, due_at)})
    return _worded(turn, "set", checkin)


@action("checkin_note", "saved", "saved_discreet", "none", takes_note=True)
async def checkin_note(turn: Turn, params: dict[str, Any], text: str | None) -> str | None:
    """Keep the typed short note with the running check-in, encrypted."""
    running = await checkins.active(turn.session, turn.conversation.id)
    if running is None:
        return "none"
    checkins.set_note(turn.deps.crypto, running, (text or "").strip() or None)
    return _worded(turn, "saved", running)


@action("checkin_extend", "extended", "extended_discreet", "none")
async def checkin_extend(turn: Turn, params: dict[str, Any], text: str | None) -> str | None:
    """``params.minutes`` more: from the time set, or from now once the time has come."""
    running = await checkins.active(turn.session, turn.conversation.id)
    if running is None:
        return "none"
    settings = turn.deps.settings
    start = max(running.due_at, turn.now)
    until = min(
        start + timedelta(minutes=float(params.get("minutes", 30))),
        turn.now + timedelta(hours=settings.checkin_max_hours),
    )
    await checkins.extend(turn.session, turn.deps.crypto, running, until=until, now=turn.now)
    turn.context_set(**{TIME: clock_time(turn, until)})
    return _worded(turn, "extended", running)


async def _finish(turn: Turn, stage: str, outcome: str) -> str:
    """End the running check-in at ``stage`` (cancelled or answered); ``none`` when none runs."""
    running = await checkins.active(turn.session, turn.conversation.id)
    if running is None:
        return "none"
    await checkins.end(turn.session, running, stage=stage, now=turn.now)
    turn.context_set(**{TIME: None})
    return _worded(turn, outcome, running)


@action("checkin_cancel", "cancelled", "cancelled_discreet", "none")
async def checkin_cancel(turn: Turn, params: dict[str, Any], text: str | None) -> str | None:
    return await _finish(turn, checkins.CANCELLED, "cancelled")


@action("checkin_ok", "answered", "answered_discreet", "none")
async def checkin_ok(turn: Turn, params: dict[str, Any], text: str | None) -> str | None:
    """ "I am OK": the check-in ends, answered."""
    return await _finish(turn, checkins.ANSWERED, "answered")


# Typed at "are you OK?", words that together say "I am OK" ("ổn", "em vẫn ổn", "ok", "fine").
_OK_WORDS = frozenset(
    {"on", "toi", "em", "minh", "van", "roi", "binh", "thuong", "khoe", "ok", "oke", "okay", "oki", "fine",
     "i", "im", "am", "m", "all", "good", "safe"}
)  # fmt: skip


@action("checkin_reply", "answered", "answered_discreet", "extended", "extended_discreet", "none", "unknown")
async def checkin_reply(turn: Turn, params: dict[str, Any], text: str | None) -> str | None:
    """Typed at "are you OK?": "ổn", "ok" answer it; a length of time ("thêm 1 tiếng") extends it."""
    from bot.nlu import normalize

    words = normalize(text or "").split()
    if words and all(w in _OK_WORDS for w in words):
        return await checkin_ok(turn, params, text)
    minutes = minutes_from_now(text or "", turn.now, ZoneInfo(turn.deps.settings.timezone))
    if minutes is not None and 1 <= minutes <= turn.deps.settings.checkin_max_hours * 60:
        return await checkin_extend(turn, {"minutes": minutes}, text)
    return "unknown"
