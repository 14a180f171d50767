"""Bad-client reports and alerts ("Ugly Mugs"): the rows behind flows/alerts.yaml and the moderation page.

A report is written step by step in the chat as a ``draft`` (every free text encrypted as it comes, so
nothing of it waits in clear in the conversation's context), sent for moderation (``pending``), then
``approved`` (alerts go to the province's subscribers, paced, through the outbox) or ``rejected``. The
phone number the client used is kept only as a keyed hash (:meth:`Crypto.phone_hash`) for lookups, and
its last 3 digits for display. Nothing here names the reporter: ``conversation_id`` lets a moderator's
question reach them through the bot and is never shown; ``reporter_hash`` only counts their reports.

Every report is deleted at ``expires_at`` (:func:`purge_expired`, run by the hourly purge): a draft a
day after it was started, any other ``alerts_expiry_days`` after it was sent or approved.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.store.crypto import Crypto
from bot.store.models import AlertCount, AlertSubscription, ClientReport, Conversation, OutboxEvent
from bot.store.outbox import LANE_OTHER, enqueue
from bot.store.outbox_kinds import ALERT_SEND, AlertSendPayload
from bot.store.upsert import upsert

DRAFT = "draft"
PENDING = "pending"
APPROVED = "approved"
REJECTED = "rejected"
SEVERITIES = ("low", "medium", "high")
FIELDS = ("place", "when", "what", "person", "vehicle", "account")
"""The free-text parts of a report, each in its own encrypted column (``<field>_enc``)."""
MAX_FIELD_CHARS = 500
DRAFT_HOURS = 24
# Statistics counters (alert_counts.name)
REPORTED = "reports"
APPROVED_COUNT = "approved"
REJECTED_COUNT = "rejected"
ALERTS_SENT = "alerts_sent"
LOOKUPS = "lookups"
MATCHES = "matches"
COUNTERS = (REPORTED, APPROVED_COUNT, REJECTED_COUNT, ALERTS_SENT, LOOKUPS, MATCHES)

_SEPARATORS = re.compile(r"[\s.\-()/]+")
_CANDIDATE = re.compile(r"(?:\+|\b)[\d][\d\s.\-()]{7,18}\d")


def normalise_phone(text: str) -> str | None:
    """A Vietnamese phone number as ``0`` and 9 or 10 digits, from how people type it: ``0901 234 567``,
    ``0901.234.567``, ``090-123-4567``, ``+84 901 234 567``, ``84901234567``, ``0084 901234567``, or
    ``901234567`` (a mobile number without its 0). None when the text is not one number."""
    digits = _SEPARATORS.sub("", text.strip())
    if digits.startswith("+"):
        digits = digits[1:]
        if not digits.startswith("84"):
            return None
    if not digits.isdigit():
        return None
    if digits.startswith("0084"):
        digits = digits[2:]
    if digits.startswith("84") and len(digits) in (11, 12):
        digits = "0" + digits[2:]
    elif not digits.startswith("0") and len(digits) == 9 and digits[0] in "35789":
        digits = "0" + digits
    if digits.startswith("0") and len(digits) in (10, 11) and digits[1] != "0":
        return digits
    return None


def find_phone(text: str) -> str | None:
    """The first phone number written in a longer text ("số của nó là 0901 234 567"), normalised."""
    for found in _CANDIDATE.finditer(text):
        number = normalise_phone(found.group())
        if number is not None:
            return number
    return normalise_phone(text)


def local_day(now: datetime, zone: str) -> str:
    """The day in the service's time zone, as the statistics count it."""
    return now.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d")


async def count(session: AsyncSession, name: str, *, now: datetime, zone: str, by: int = 1) -> None:
    """Add ``by`` to a statistics counter of today (one atomic upsert)."""
    if name not in COUNTERS:
        raise ValueError(f"unknown alert counter {name!r}")
    insert = upsert(session, AlertCount).values(day=local_day(now, zone), name=name, count=by)
    await session.execute(
        insert.on_conflict_do_update(
            index_elements=["day", "name"], set_={"count": AlertCount.count + insert.excluded.count}
        )
    )


async def counts(session: AsyncSession, *, first_day: str, last_day: str) -> dict[str, int]:
    """Each counter's total over the days from ``first_day`` to ``last_day`` (YYYY-MM-DD, inclusive)."""
    rows = await session.execute(
        select(AlertCount.name, func.sum(AlertCount.count))
        .where(AlertCount.day >= first_day, AlertCount.day <= last_day)
        .group_by(AlertCount.name)
    )
    found = {name: int(total or 0) for name, total in rows.tuples()}
    return {name: found.get(name, 0) for name in COUNTERS}


# --- writing a report ----------------------------------------------------------------------------------


def reporter_hash(crypto: Crypto, user_key: str) -> str:
    """Stands for the reporter in the count of their reports; cannot be turned back into a key."""
    return crypto.flood_hash(f"reporter:{user_key}")


async def start_draft(
    session: AsyncSession,
    crypto: Crypto,
    *,
    conversation: Conversation | None,
    province: str,
    now: datetime,
    via: str = "chat",
) -> ClientReport:
    """A new report for ``province``; from the chat it is a draft deleted after a day unless sent."""
    report = ClientReport(
        conversation_id=conversation.id if conversation is not None else None,
        reporter_hash=reporter_hash(crypto, conversation.user_key) if conversation is not None else None,
        via=via,
        status=DRAFT,
        province=province,
        created_at=now,
        expires_at=now + timedelta(hours=DRAFT_HOURS),
    )
    session.add(report)
    await session.flush()
    return report


def set_field(crypto: Crypto, report: ClientReport, field: str, text: str | None) -> None:
    """Keep (or with None/blank, clear) one free-text part of a report, encrypted."""
    if field not in FIELDS:
        raise ValueError(f"unknown report field {field!r}")
    value = (text or "").strip()[:MAX_FIELD_CHARS]
    setattr(report, f"{field}_enc", crypto.encrypt(value) if value else None)


def set_phone(crypto: Crypto, report: ClientReport, number: str | None) -> None:
    """Keep a normalised phone number as its keyed hash and last 3 digits (None clears it)."""
    report.phone_hash = crypto.phone_hash(number) if number else None
    report.phone_last3 = number[-3:] if number else None


def field(crypto: Crypto, report: ClientReport, name: str) -> str | None:
    token = getattr(report, f"{name}_enc")
    return crypto.decrypt(token) if token else None


async def draft_of(session: AsyncSession, conversation_id: int, report_id: object) -> ClientReport | None:
    """The conversation's draft ``report_id`` (from its context), if it is still a draft of it."""
    if not isinstance(report_id, int):
        return None
    report = await session.get(ClientReport, report_id)
    if report is None or report.status != DRAFT or report.conversation_id != conversation_id:
        return None
    return report


async def submit(
    session: AsyncSession, report: ClientReport, *, now: datetime, expiry_days: int, zone: str
) -> None:
    """Send a draft for moderation; it is deleted ``expiry_days`` from now if nobody decides."""
    report.status = PENDING
    report.submitted_at = now
    report.expires_at = now + timedelta(days=expiry_days)
    await count(session, REPORTED, now=now, zone=zone)


async def discard(session: AsyncSession, report: ClientReport) -> None:
    await session.delete(report)


# --- moderation ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReportView:
    """A report as a moderator reads it: the texts in clear, nothing that names the reporter."""

    id: int
    status: str
    via: str
    severity: str | None
    province: str | None
    texts: dict[str, str]
    phone_last3: str | None
    submitted_at: datetime | None
    expires_at: datetime
    reporter_reports: int  # reports this reporter sent (itself included) that are still kept
    can_ask: bool  # a question can reach the reporter through the bot
    followup: list[dict[str, str]]  # [{"who": "moderator" | "reporter", "text": ...}]


async def view(session: AsyncSession, crypto: Crypto, report: ClientReport) -> ReportView:
    by_reporter = 1
    if report.reporter_hash is not None:
        by_reporter = int(
            await session.scalar(
                select(func.count())
                .select_from(ClientReport)
                .where(ClientReport.reporter_hash == report.reporter_hash, ClientReport.status != DRAFT)
            )
            or 0
        )
    return ReportView(
        id=report.id,
        status=report.status,
        via=report.via,
        severity=report.severity,
        province=report.province,
        texts={name: field(crypto, report, name) or "" for name in FIELDS},
        phone_last3=report.phone_last3,
        submitted_at=report.submitted_at,
        expires_at=report.expires_at,
        reporter_reports=by_reporter,
        can_ask=report.conversation_id is not None,
        followup=followup(crypto, report),
    )


def followup(crypto: Crypto, report: ClientReport) -> list[dict[str, str]]:
    """The moderator's questions and the reporter's answers, in order."""
    return list(crypto.decrypt_json(report.followup_enc)) if report.followup_enc else []


def add_followup(crypto: Crypto, report: ClientReport, *, who: str, text: str) -> None:
    """One more question (``moderator``) or answer (``reporter``), encrypted with the others."""
    lines = [*followup(crypto, report), {"who": who, "text": text.strip()[:MAX_FIELD_CHARS]}]
    report.followup_enc = crypto.encrypt_json(lines)


async def listed(session: AsyncSession, *, status: str) -> list[ClientReport]:
    """Reports of one status, oldest first (the moderation queue)."""
    rows = await session.execute(
        select(ClientReport).where(ClientReport.status == status).order_by(ClientReport.id).limit(200)
    )
    return list(rows.scalars())


class ModerationError(ValueError):
    """A moderation step that cannot be done as asked (already decided, bad severity); nothing changed."""


async def decide(
    session: AsyncSession,
    crypto: Crypto,
    report: ClientReport,
    *,
    approve: bool,
    severity: str | None,
    staff_id: int | None,
    now: datetime,
    expiry_days: int,
    pacing_seconds: float,
    zone: str,
) -> int:
    """Approve (alerts queued to the province's subscribers, paced) or reject a pending report; how many
    alerts were queued. A rejected report is never sent and goes at its expiry like the rest."""
    if report.status != PENDING:
        raise ModerationError(f"report #{report.id} is {report.status}, not pending")
    if approve and severity not in SEVERITIES:
        raise ModerationError(f"set the severity ({', '.join(SEVERITIES)}) before approving")
    report.decided_at = now
    report.decided_by = staff_id
    if not approve:
        report.status = REJECTED
        await count(session, REJECTED_COUNT, now=now, zone=zone)
        return 0
    report.status = APPROVED
    report.severity = severity
    report.expires_at = now + timedelta(days=expiry_days)
    await count(session, APPROVED_COUNT, now=now, zone=zone)
    subscribers = await session.execute(
        select(AlertSubscription.id, AlertSubscription.conversation_id)
        .where(AlertSubscription.province == report.province)
        .order_by(AlertSubscription.id)
    )
    # Paced after the alerts of earlier approvals still waiting, so that two approvals together do not
    # double the rate.
    last = await session.scalar(
        select(func.max(OutboxEvent.not_before)).where(
            OutboxEvent.kind == ALERT_SEND, OutboxEvent.status == "pending"
        )
    )
    start = now if last is None or last < now else last + timedelta(seconds=pacing_seconds)
    queued = 0
    for subscription_id, conversation_id in subscribers.tuples():
        if conversation_id == report.conversation_id:
            continue  # the reporter knows already
        payload: AlertSendPayload = {"report_id": report.id, "subscription_id": subscription_id}
        await enqueue(
            session,
            crypto,
            kind=ALERT_SEND,
            payload=payload,
            now=now,
            conversation_id=conversation_id,
            ordering_key=f"alert:{report.id}",
            not_before=start + timedelta(seconds=pacing_seconds * queued),
            lane=LANE_OTHER,
        )
        queued += 1
    report.alerts_queued = queued
    return queued


async def matches(session: AsyncSession, crypto: Crypto, number: str, *, now: datetime) -> list[ClientReport]:
    """Approved reports, still kept, of a normalised phone number; newest first."""
    rows = await session.execute(
        select(ClientReport)
        .where(
            ClientReport.phone_hash == crypto.phone_hash(number),
            ClientReport.status == APPROVED,
            ClientReport.expires_at > now,
        )
        .order_by(ClientReport.decided_at.desc())
    )
    return list(rows.scalars())


# --- subscriptions -------------------------------------------------------------------------------------


async def subscription(session: AsyncSession, conversation_id: int) -> AlertSubscription | None:
    return (
        await session.execute(
            select(AlertSubscription).where(AlertSubscription.conversation_id == conversation_id)
        )
    ).scalar_one_or_none()


async def subscribe(
    session: AsyncSession, *, conversation_id: int, province: str, discreet: bool, now: datetime
) -> AlertSubscription:
    """Alerts of ``province`` for this conversation (one province at a time: a new one replaces it)."""
    found = await subscription(session, conversation_id)
    if found is None:
        found = AlertSubscription(conversation_id=conversation_id, created_at=now)
        session.add(found)
    found.province = province
    found.discreet = discreet
    await session.flush()
    return found


async def unsubscribe(session: AsyncSession, conversation_id: int) -> bool:
    """Stop alerts at once (alerts already queued find no subscription and are not sent)."""
    result = await session.execute(
        delete(AlertSubscription)
        .where(AlertSubscription.conversation_id == conversation_id)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


# --- retention -----------------------------------------------------------------------------------------


async def purge_expired(session: AsyncSession, *, now: datetime) -> int:
    """Delete every report past its ``expires_at`` (drafts, pending, approved, rejected); how many."""
    result = await session.execute(
        delete(ClientReport)
        .where(ClientReport.expires_at <= now)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
