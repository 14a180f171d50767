"""The actions of bad-client reports and alerts (flows/alerts.yaml): report, check a number, subscribe.

A report is written step by step into its own row (bot/store/alerts.py), every text encrypted as it
comes; the conversation's context holds only the draft's id. The turns that carry a report's details or
a number to check are :attr:`Turn.unrecorded`: the transcript gets a placeholder, so neither the number
checked nor the report sits with the person's conversation. Reports and lookups are capped per person
and day (``alerts_reports_per_day``, ``alerts_lookups_per_day``); a lookup is counted, never kept.
"""

from __future__ import annotations

from typing import Any

from bot.content.fields import LocalText
from bot.engine.actions import action
from bot.engine.floods import admit_daily
from bot.engine.places import find_province
from bot.engine.turn import Turn
from bot.store import alerts
from bot.store.models import ClientReport

DRAFT = "alert_draft"  # context: the id of the report being written
DISCREET = "alert_discreet"  # context: discreet wording chosen before subscribing
LOOKUP = "alert_lookup"  # the flood counter's name for numbers checked
REPORT = "alert_report"
ADDRESS_FACTOR = 5  # a web chat address may check (or report) this many times one person's daily limit


def values(turn: Turn, report: ClientReport) -> dict[str, object]:
    """The ``{alert_*}`` placeholders of a report's texts (an alert, a lookup's match)."""
    crypto = turn.deps.crypto
    found: dict[str, object] = {
        f"alert_{name}": alerts.field(crypto, report, name) or "-" for name in alerts.FIELDS
    }
    found["alert_province"] = report.province or "-"
    found["alert_phone"] = f"…{report.phone_last3}" if report.phone_last3 else "-"
    severity: LocalText | None = turn.deps.flows.strings.get(f"alert_severity_{report.severity}")
    found["alert_severity"] = severity.get(turn.locale) if severity is not None else "-"
    return found


async def _admit(turn: Turn, what: str, limit: int) -> bool:
    """Count one report or lookup of this person if under ``limit`` a day; on the web chat, where a new
    session is a new person, also of their network address (:mod:`bot.engine.floods`, a keyed hash),
    under :data:`ADDRESS_FACTOR` times the limit: new sessions do not lift the cap, and people behind one
    carrier's shared address are not held to one person's."""
    crypto = turn.deps.crypto
    if not await admit_daily(
        turn.session, crypto, what=what, client=turn.conversation.user_key, limit=limit, now=turn.now
    ):
        return False
    address = turn.message.client_key
    return address is None or await admit_daily(
        turn.session,
        crypto,
        what=f"{what}:address",
        client=address,
        limit=limit * ADDRESS_FACTOR,
        now=turn.now,
    )


async def _draft(turn: Turn) -> ClientReport | None:
    return await alerts.draft_of(turn.session, turn.conversation.id, turn.context_get(DRAFT))


@action("alerts_report_start", "ok", "limited")
async def report_start(turn: Turn, params: dict[str, Any], text: str | None) -> str | None:
    """A new report, if this person has not sent too many today (a draft left before is dropped)."""
    old = await _draft(turn)
    if old is not None:
        await alerts.discard(turn.session, old)
        turn.context_set(**{DRAFT: None})
    admitted = await _admit(turn, REPORT, turn.deps.settings.alerts_reports_per_day)
    return "ok" if admitted else "limited"


@action("alerts_report_province", "found", "unknown", takes_note=True)
async def report_province(turn: Turn, params: dict[str, Any], text: str | None) -> str | None:
    """The province where it happened: the report's draft starts here."""
    province = find_province(text or "", turn.deps.knowledge)
    if province is None:
        turn.say(turn.string("alerts_province_unknown"))
        return "unknown"
    report = await _draft(turn)
    if report is None:
        report = await alerts.start_draft(
            turn.session,
            turn.deps.crypto,
            conversation=turn.conversation,
            province=province.name,
            now=turn.now,
        )
        turn.context_set(**{DRAFT: report.id})
    report.province = province.name
    return "found"


@action("alerts_report_field", "saved", "none", takes_note=True)
async def report_field(turn: Turn, params: dict[str, Any], text: str | None) -> str | None:
    """One part of the report (``params.field``), typed; kept encrypted, never in the transcript."""
    turn.unrecorded = True
    report = await _draft(turn)
    if report is None:
        return "none"
    alerts.set_field(turn.deps.crypto, report, str(params.get("field")), text)
    return "saved"


@action("alerts_report_phone", "saved", "skipped", "invalid", "none", takes_note=True)
async def report_phone(turn: Turn, params: dict[str, Any], text: str | None) -> str | None:
    """The number the client used: only its keyed hash and last 3 digits are kept. Words without a
    digit ("không biết", "ko có") skip the question like the button."""
    turn.unrecorded = True
    report = await _draft(turn)
    if report is None:
        return "none"
    if not any(c.isdigit() for c in text or ""):
        return "skipped"
    number = alerts.find_phone(text or "")
    if number is None:
        return "invalid"
    alerts.set_phone(turn.deps.crypto, report, number)
    return "saved"


@action("alerts_report_send", "sent", "none")
async def report_send(turn: Turn, params: dict[str, Any], text: str | None) -> str | None:
    """Send the draft to the moderators; nothing is broadcast before one approves it."""
    report = await _draft(turn)
    turn.context_set(**{DRAFT: None})
    if report is None or report.what_enc is None:
        return "none"
    settings = turn.deps.settings
    await alerts.submit(
        turn.session, report, now=turn.now, expiry_days=settings.alerts_expiry_days, zone=settings.timezone
    )
    return "sent"


@action("alerts_report_cancel")
async def report_cancel(turn: Turn, params: dict[str, Any], text: str | None) -> str | None:
    report = await _draft(turn)
    if report is not None:
        await alerts.discard(turn.session, report)
    turn.context_set(**{DRAFT: None})
    return None


@action("alerts_lookup", "match", "none", "unknown", "limited")
async def lookup(turn: Turn, params: dict[str, Any], text: str | None) -> str | None:
    """Whether a number matches an approved report; capped per person and day; the number is not kept.
    ``unknown`` when the text holds no phone number: asked again at the question, and "kiểm tra số lần
    uống thuốc" typed anywhere is a question for the language model, not a lookup."""
    turn.unrecorded = True
    number = alerts.find_phone(text or "")
    if number is None:
        turn.say(turn.string("alerts_number_unknown"))
        return "unknown"
    settings = turn.deps.settings
    if not await _admit(turn, LOOKUP, settings.alerts_lookups_per_day):
        return "limited"
    await alerts.count(turn.session, alerts.LOOKUPS, now=turn.now, zone=settings.timezone)
    found = await alerts.matches(turn.session, turn.deps.crypto, number, now=turn.now)
    if not found:
        return "none"
    await alerts.count(turn.session, alerts.MATCHES, now=turn.now, zone=settings.timezone)
    turn.extra.update(values(turn, found[0]), alert_count=len(found))
    return "match"


@action("alerts_subscribe_status", "new", "new_discreet", "subscribed", "subscribed_discreet", "no_push")
async def subscribe_status(turn: Turn, params: dict[str, Any], text: str | None) -> str | None:
    """Alerts need a channel that can write to the person later: the web chat cannot (``no_push``)."""
    if turn.conversation.channel not in turn.deps.push_channels:
        return "no_push"
    found = await alerts.subscription(turn.session, turn.conversation.id)
    if found is not None:
        turn.extra["alert_province"] = found.province
        return "subscribed_discreet" if found.discreet else "subscribed"
    return "new_discreet" if turn.context_get(DISCREET) else "new"


@action("alerts_subscribe", "subscribed", "subscribed_discreet", "unknown", "no_push")
async def subscribe(turn: Turn, params: dict[str, Any], text: str | None) -> str | None:
    """Alerts of the typed province, from now on."""
    if turn.conversation.channel not in turn.deps.push_channels:
        return "no_push"
    province = find_province(text or "", turn.deps.knowledge)
    if province is None:
        turn.say(turn.string("alerts_province_unknown"))
        return "unknown"
    discreet = bool(turn.context_get(DISCREET))
    await alerts.subscribe(
        turn.session, conversation_id=turn.conversation.id, province=province.name, discreet=discreet,
        now=turn.now,
    )  # fmt: skip
    turn.extra["alert_province"] = province.name
    return "subscribed_discreet" if discreet else "subscribed"


@action("alerts_discreet")
async def discreet(turn: Turn, params: dict[str, Any], text: str | None) -> str | None:
    """Discreet wording on (``params.on: false`` turns it off), for the subscription too."""
    on = bool(params.get("on", True))
    turn.context_set(**{DISCREET: True if on else None})
    found = await alerts.subscription(turn.session, turn.conversation.id)
    if found is not None:
        found.discreet = on
        turn.extra["alert_province"] = found.province
    return None


@action("alerts_unsubscribe", "stopped", "none")
async def unsubscribe(turn: Turn, params: dict[str, Any], text: str | None) -> str | None:
    """No more alerts, at once (those already queued are not sent)."""
    return "stopped" if await alerts.unsubscribe(turn.session, turn.conversation.id) else "none"


@action("alerts_phone", "call", "chat")
async def on_phone(turn: Turn, params: dict[str, Any], text: str | None) -> str | None:
    """A phone call (a message with a transport session) leaves the report with a counsellor."""
    return "call" if turn.message.session_id is not None else "chat"


FOLLOWUP = "alert_followup"  # context: the report a moderator asked this person about


@action("alerts_followup", "saved", "none", takes_note=True)
async def followup_answer(turn: Turn, params: dict[str, Any], text: str | None) -> str | None:
    """The reporter's answer to a moderator's question: kept with the report, encrypted, not in the
    transcript."""
    turn.unrecorded = True
    report_id = turn.context_get(FOLLOWUP)
    turn.context_set(**{FOLLOWUP: None})
    report = await turn.session.get(ClientReport, report_id) if isinstance(report_id, int) else None
    if report is None or report.conversation_id != turn.conversation.id or not (text or "").strip():
        return "none"
    alerts.add_followup(turn.deps.crypto, report, who="reporter", text=text or "")
    return "saved"
