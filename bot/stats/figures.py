"""Raw figures: exact counts and times, before suppression. Never published as they are.

Definitions (they are the report's, and the README repeats them):

- a **contact** is one chat session or one call; **unique users** are distinct pseudonymous keys, and
  a key belongs to one person on one channel (the same person on the web chat and on Telegram counts
  twice; a web chat session is its own user);
- a contact's **topics** are those of the answers it was given or the questions it asked (one contact,
  possibly several topics); its **referrals** the kinds of service it was shown;
- a **call** is a contact on the phone channel; its duration runs from its first to its last moment
  (the phone line sets the end from Twilio's call duration); **abandoned** is the phone line's flag;
- the **time to a counsellor** of an escalation runs from when it was opened (the person asked, or the
  danger was detected: the moment the person started waiting) to when a counsellor took it; the time
  of the first page is not used, because the person waits from the first moment. An escalation
  **nobody took** has no ``taken_at`` (still open, or closed without being taken);
- **check-ins** are safety check-ins, counted in the contact in which they were set: how many were
  set, how many the person answered ("I am OK"), how many ended in an emergency (nobody answered, or the
  person asked for help); the others were cancelled or are still running;
- the **close form** is what a counsellor ticks when closing a case in the console: its reasons for
  contact (one case, possibly several; each also counted under the programme's report category and
  Child Helpline International's category it maps to, once per case), the risk at the end, the
  referrals made (directory ids) and whether a follow-up is wanted; counted per case that has a form,
  in the period the case was opened. Only codes: nothing typed is counted;
- the **median** is the middle value (the mean of the two middle ones for an even count); the **90th
  percentile** is the nearest-rank one: the shortest time within which 90% were taken.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from bot.channels.registry import channel_labels
from bot.content.knowledge import SERVICE_KINDS
from bot.stats.period import Period
from bot.stats.queries import ContactRow, EscalationRow
from bot.store.closeform import BY_CODE, CHI, END_RISKS, PROGRAMME, REASON_CODES
from bot.store.escalations import OUTCOMES
from bot.topics import TOPICS

PHONE = "phone"  # the phone line's channel (ivr/calls.py CHANNEL): its contacts are calls
# The channels in the order their registry lines declare them (bot/channels/registry.py imports none).
CHANNEL_ORDER = tuple(channel_labels())
KINDS = ("emergency", "counsellor", "callback")
NOT_TOLD = "not_told"
NOT_CLOSED = "not_closed"
TAKEN, NOT_TAKEN = "taken", "not_taken"
HELPFUL = ("yes", "no", "no_answer")
CHECKINS = ("set", "answered", "escalated")


@dataclass
class Figures:
    """Exact counts for one period. Only :mod:`bot.stats.report` reads them, to suppress them."""

    months: tuple[str, ...]
    channels: tuple[str, ...] = ()
    contacts: Counter[tuple[str, str]] = field(default_factory=Counter)  # (month, channel)
    unique_users: int = 0
    topics: Counter[tuple[str, str]] = field(default_factory=Counter)  # (month, topic)
    provinces: Counter[str] = field(default_factory=Counter)
    helpful: Counter[str] = field(default_factory=Counter)
    referrals: Counter[str] = field(default_factory=Counter)
    kinds: tuple[str, ...] = KINDS
    escalations: Counter[tuple[str, str]] = field(default_factory=Counter)  # (kind, taken|not_taken)
    outcomes: Counter[str] = field(default_factory=Counter)
    waits: dict[str, list[float]] = field(default_factory=dict)  # kind -> seconds to a counsellor
    calls: int = 0
    call_seconds: list[float] = field(default_factory=list)
    abandoned: int = 0
    checkins: Counter[str] = field(default_factory=Counter)  # set | answered | escalated
    # bad-client alerts (bot/store/alerts.py COUNTERS): reports, approved, rejected, alerts_sent, lookups, matches
    alerts: Counter[str] = field(default_factory=Counter)
    # the close form, per case that has one
    reasons: Counter[str] = field(default_factory=Counter)
    programme: Counter[str] = field(default_factory=Counter)
    chi: Counter[str] = field(default_factory=Counter)
    end_risks: Counter[str] = field(default_factory=Counter)
    referrals_made: Counter[str] = field(default_factory=Counter)
    follow_up: Counter[str] = field(default_factory=Counter)  # yes | no

    @property
    def referral_kinds(self) -> tuple[str, ...]:
        return (*SERVICE_KINDS, *sorted(set(self.referrals) - set(SERVICE_KINDS)))

    @property
    def outcome_codes(self) -> tuple[str, ...]:
        extra = sorted(set(self.outcomes) - {*OUTCOMES, NOT_CLOSED})
        return (*OUTCOMES, *extra, NOT_CLOSED)

    @property
    def province_names(self) -> tuple[str, ...]:
        return (*sorted(set(self.provinces) - {NOT_TOLD}), NOT_TOLD)


def ordered(names: Iterable[str], first: Sequence[str]) -> tuple[str, ...]:
    """``names`` with those in ``first`` in that order, then the rest alphabetically."""
    present = set(names)
    return (*(n for n in first if n in present), *sorted(present - set(first)))


def count(contacts: Sequence[ContactRow], escalations: Sequence[EscalationRow], period: Period) -> Figures:
    """Count a period's contacts and escalations."""
    figures = Figures(months=period.months())
    figures.channels = ordered((c.channel for c in contacts), CHANNEL_ORDER)
    figures.unique_users = len({c.stats_key for c in contacts})
    for contact in contacts:
        month = period.month_of(contact.started_at)
        figures.contacts[(month, contact.channel)] += 1
        for topic in set(contact.topics) & set(TOPICS):
            figures.topics[(month, topic)] += 1
        figures.provinces[contact.province or NOT_TOLD] += 1
        figures.helpful[{True: "yes", False: "no", None: "no_answer"}[contact.helpful]] += 1
        for kind in set(contact.referrals):
            figures.referrals[kind] += 1
        for name, value in zip(CHECKINS, contact.checkins, strict=True):
            figures.checkins[name] += value
        if contact.channel == PHONE:
            figures.calls += 1
            figures.call_seconds.append((contact.ended_at - contact.started_at).total_seconds())
            figures.abandoned += contact.abandoned
    figures.kinds = ordered((*KINDS, *(e.kind for e in escalations)), KINDS)
    for escalation in escalations:
        taken = escalation.taken_at is not None
        figures.escalations[(escalation.kind, TAKEN if taken else NOT_TAKEN)] += 1
        closed = escalation.closed_at is not None and escalation.outcome is not None
        figures.outcomes[escalation.outcome if closed and escalation.outcome else NOT_CLOSED] += 1
        if escalation.taken_at is not None:
            wait = (escalation.taken_at - escalation.created_at).total_seconds()
            figures.waits.setdefault(escalation.kind, []).append(max(0.0, wait))
        _count_form(figures, escalation)
    return figures


def _count_form(figures: Figures, escalation: EscalationRow) -> None:
    """The close form's codes; an unknown code (a reason retired since) is left out, never shown raw."""
    if escalation.end_risk is None:
        return  # no form (closed on Telegram, or before the form existed)
    reasons = {r for r in escalation.reasons if r in BY_CODE}
    for reason in reasons:
        figures.reasons[reason] += 1
    for category in {BY_CODE[r].programme for r in reasons}:
        figures.programme[category] += 1
    for category in {BY_CODE[r].chi for r in reasons}:
        figures.chi[category] += 1
    if escalation.end_risk in END_RISKS:
        figures.end_risks[escalation.end_risk] += 1
    for service in set(escalation.referrals_made):
        figures.referrals_made[service] += 1
    figures.follow_up[FOLLOW_UP[bool(escalation.follow_up)]] += 1


FOLLOW_UP = {True: "yes", False: "no"}
FORM_TABLES = (("reasons", REASON_CODES), ("programme", PROGRAMME), ("chi", CHI), ("end_risks", END_RISKS))


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values))


def percentile(values: Sequence[float], share: float) -> float:
    """The nearest-rank percentile: the smallest value with ``share`` of the values at or below it."""
    ranked = sorted(values)
    return ranked[max(0, math.ceil(share * len(ranked)) - 1)]
