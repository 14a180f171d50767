"""Actions flows can call by name (``type: action`` nodes and ``ask`` nodes).

Each action takes the turn, the node's ``params`` and, for ``ask`` nodes, the text the person typed,
and returns an outcome word that the node's ``branches`` may route on.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from bot.content.knowledge import SERVICE_KINDS
from bot.engine.answers import show_more, show_services
from bot.engine.checkin_notes import end_in_emergency
from bot.engine.floods import Admission, admit_alert
from bot.engine.places import find_province
from bot.engine.spoken import number_words
from bot.engine.timeparse import hours_since
from bot.engine.turn import Turn
from bot.nlu.data import EMERGENCY_KINDS
from bot.store.erasure import erase_conversation
from bot.store.escalations import current_escalation, open_escalation, staff_reachable

PEP_HOURS = 72
# Estimates of elapsed time are rough ("3 days ago"): around the 72-hour limit the person is sent to a
# doctor at once rather than told it is too late.
EDGE_HOURS = (60.0, 90.0)

ActionFn = Callable[[Turn, dict[str, Any], str | None], Awaitable[str | None]]


@dataclass(frozen=True)
class Action:
    name: str
    run: ActionFn
    outcomes: tuple[str, ...] = ()
    # The text it takes is a note the person was asked for (a check-in's "where I am, who with"): the
    # "are you in danger right now?" question does not interrupt it; an emergency still does.
    takes_note: bool = False


ACTIONS: dict[str, Action] = {}


def action(name: str, *outcomes: str, takes_note: bool = False) -> Callable[[ActionFn], ActionFn]:
    def register(fn: ActionFn) -> ActionFn:
        ACTIONS[name] = Action(name, fn, outcomes, takes_note)
        return fn

    return register


@action("set_locale")
async def set_locale(turn: Turn, params: dict[str, Any], text: str | None) -> str | None:
    locale = str(params.get("locale", "vi"))
    turn.conversation.locale = "en" if locale == "en" else "vi"
    turn.conversation.locale_chosen = True
    turn.contact.locale = turn.conversation.locale
    return None


@action("delete_data")
async def delete_data(turn: Turn, params: dict[str, Any], text: str | None) -> str | None:
    """Delete everything tied to the conversation at once (:mod:`bot.store.erasure`); statistics stay,
    unlinked. The confirmation still goes out, and its outbox row is deleted once sent."""
    locale = turn.locale
    hook = turn.deps.forget_hooks.get(turn.conversation.channel)
    if hook is not None:
        await hook(turn.session, turn.conversation, turn.now)
    await erase_conversation(turn.session, turn.deps.crypto, turn.conversation, now=turn.now)
    turn.deleted = True
    key = "quick_exit" if params.get("quiet") else "deleted"
    turn.say(turn.deps.flows.strings[key].get(locale).format_map(turn.values()))
    return None


async def _escalate(turn: Turn, kind: str, risk: str | None) -> str:
    had_one = await current_escalation(turn.session, turn.conversation)
    page = had_one is None or had_one.status == "open"  # a held one pages nobody
    combine = False
    if page:
        admission = await _under_alert_cap(turn)
        page = admission.admitted
        # This client paged staff already within the hour: a combined page, not one of the single ones.
        combine = admission.earlier >= 1
    escalation, new = await open_escalation(
        turn.session,
        turn.deps.crypto,
        conversation=turn.conversation,
        contact=turn.contact,
        kind=kind,
        risk=risk,
        now=turn.now,
        page=page,
        combine=combine,
    )
    if had_one is not None and escalation.status == "taken":
        return "taken"
    if new and not await staff_reachable(turn.session, turn.deps.settings):
        return "no_staff"
    if not page:
        return "queued"  # over the flood cap: in the console queue, nobody paged for it
    return "paged" if new else "already_open"


async def _under_alert_cap(turn: Turn) -> Admission:
    """Whether this client may still page staff (see :mod:`bot.engine.floods`); counts the alert if so."""
    return await admit_alert(
        turn.session,
        turn.deps.crypto,
        turn.deps.settings,
        channel=turn.conversation.channel,
        client=turn.message.client_key or turn.conversation.user_key,
        now=turn.now,
    )


@action("emergency", "paged", "no_staff", "already_open", "taken", "queued")
async def emergency(turn: Turn, params: dict[str, Any], text: str | None) -> str | None:
    """Open (or re-alert) an emergency escalation; its page goes out through the outbox."""
    turn.emergency = True
    risk = turn.context_get("risk")
    outcome = await _escalate(turn, "emergency", str(risk) if risk else params.get("risk"))
    if turn.conversation.escalation_id is not None:
        await end_in_emergency(turn, turn.conversation.escalation_id)
    return outcome


@action("request_counsellor", "paged", "no_staff", "already_open", "taken", "queued")
async def request_counsellor(turn: Turn, params: dict[str, Any], text: str | None) -> str | None:
    return await _escalate(turn, "counsellor", None)


@action("record_helpful")
async def record_helpful(turn: Turn, params: dict[str, Any], text: str | None) -> str | None:
    turn.contact.helpful = bool(params.get("value"))
    return None


@action("show_more", "shown", "none")
async def show_more_action(turn: Turn, params: dict[str, Any], text: str | None) -> str | None:
    article_id = turn.context_get("article")
    article = turn.deps.knowledge.articles.get(str(article_id)) if article_id else None
    if article is None:
        return "none"
    show_more(turn, article)
    return "shown"


@action("find_services", "shown", "need_province", "need_kind")
async def find_services(turn: Turn, params: dict[str, Any], text: str | None) -> str | None:
    """List services of ``params.kind`` (or the last article's referral) where the person is."""
    kind = params.get("kind") or turn.context_get("referral")
    if kind not in SERVICE_KINDS:
        return "need_kind"
    turn.context_set(service_kind=kind)
    province = turn.context_get("province")
    if province is None and not turn.context_get("province_skipped") and kind not in ("emergency", "hotline"):
        return "need_province"
    show_services(turn, str(kind), str(province) if province else None)
    return "shown"


@action("set_province", "found", "skipped", "unknown")
async def set_province(turn: Turn, params: dict[str, Any], text: str | None) -> str | None:
    """Remember the province the person chose to tell (for this session and the statistics)."""
    if params.get("skip"):
        turn.context_set(province_skipped=True)
        return "skipped"
    province = find_province(text or "", turn.deps.knowledge)
    if province is None:
        turn.say(turn.string("province_unknown"))
        return "unknown"
    turn.context_set(province=province.name)
    turn.contact.province = province.name
    return "found"


@action("continue_services", "shown", "need_kind")
async def continue_services(turn: Turn, params: dict[str, Any], text: str | None) -> str | None:
    kind = turn.context_get("service_kind")
    if kind not in SERVICE_KINDS:
        return "need_kind"
    province = turn.context_get("province")
    show_services(turn, str(kind), str(province) if province else None)
    return "shown"


@action("exposure_time", "answered", "unknown")
async def exposure_time(turn: Turn, params: dict[str, Any], text: str | None) -> str | None:
    """Tell how much of the 72 hours for PEP is left, from when the exposure happened."""
    hours = params.get("hours")
    if hours is None and text is not None:
        hours = hours_since(text)
    if hours is None:
        turn.say(turn.string("exposure_unknown"))
        return "unknown"
    hours = float(hours)
    left = PEP_HOURS - hours
    turn.context_set(exposure_hours=hours)
    if EDGE_HOURS[0] <= hours < EDGE_HOURS[1]:
        turn.say(turn.string("exposure_edge"), voice=turn.string("exposure_edge_voice"))
    elif left > 0:
        hours_left = max(1, int(left))
        turn.say(
            turn.string("exposure_within", hours_left=hours_left),
            voice=turn.string("exposure_within_voice", hours_left=number_words(hours_left, turn.locale)),
        )
    else:
        turn.say(turn.string("exposure_past"), voice=turn.string("exposure_past_voice"))
    return "answered"


# The kinds of danger the safety check names (context ``risk``); ``none`` when it names none.
RISK_KINDS = (*EMERGENCY_KINDS, "none")
OTHER = "_other"  # suffix of the outcome when the message is about someone else


@action("emergency_kind", *RISK_KINDS, *(f"{kind}{OTHER}" for kind in RISK_KINDS))
async def emergency_kind(turn: Turn, params: dict[str, Any], text: str | None) -> str | None:
    """Which emergency reply fits: the kind of danger in this message, and whether it is about someone else.

    Only a typed message carries a kind: a button ("I am in danger", key 9 on the phone) is the
    generic path, so an earlier message's kind left in the context never answers a later press.
    """
    if turn.message.kind != "text":
        return "none"
    risk = turn.context_get("risk")
    kind = str(risk) if risk in EMERGENCY_KINDS else "none"
    return f"{kind}{OTHER}" if turn.context_get("about_other") else kind
