"""Moderating bad-client reports (the console's moderation page, bot/console/moderation.py): read, edit out
what could identify anyone, set the severity, approve or reject, ask the reporter a question through the
bot, and enter a report a caller left with a counsellor. Every step is one transaction with its audit entry
(``audit_log``; the detail names the report and the fields changed, never their content).

An approval queues the alerts (bot/store/alerts.py); a rejection sends nothing, ever. The reporter is
reached only through their conversation (``ClientReport.conversation_id``), which no page shows.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.content.flows import Flows
from bot.content.knowledge import Knowledge
from bot.engine.alerts import FOLLOWUP
from bot.engine.places import find_province
from bot.errors import HotlineError
from bot.escalation.notify import send_to_person
from bot.messages import Choice, Reply
from bot.settings import Settings
from bot.store import alerts
from bot.store.crypto import Crypto
from bot.store.locking import for_update
from bot.store.models import AuditEntry, ClientReport, Conversation

QUESTION_NODE = "alerts.question"
MAX_QUESTION_CHARS = 300


class ModerationRefused(HotlineError):
    """A moderation step refused as asked (already decided, no severity, unknown province): nothing changed."""


class HasPushChannels(Protocol):
    @property
    def push_channels(self) -> frozenset[str]: ...


@dataclass
class Moderation:
    """The moderation desk, bound to the running services."""

    sessionmaker: async_sessionmaker[AsyncSession]
    crypto: Crypto
    clock: Clock
    flows: Flows
    settings: Settings
    knowledge: Knowledge
    channels: HasPushChannels  # read per call: the runtime sets the push channels after start

    def _audit(self, session: AsyncSession, staff_id: int, action: str, **detail: Any) -> None:
        session.add(AuditEntry(staff_id=staff_id, action=action, at=self.clock.now(), detail=detail or None))

    async def reports(self, staff_id: int) -> tuple[list[alerts.ReportView], list[alerts.ReportView]]:
        """The reports waiting for a decision and the approved ones still kept, oldest first; the
        reading is audited."""
        async with self.sessionmaker() as session, session.begin():
            pending = [
                await alerts.view(session, self.crypto, r)
                for r in await alerts.listed(session, status=alerts.PENDING)
            ]
            approved = [
                await alerts.view(session, self.crypto, r)
                for r in await alerts.listed(session, status=alerts.APPROVED)
            ]
            self._audit(session, staff_id, "reports_read", reports=[v.id for v in (*pending, *approved)])
        return pending, approved

    async def withdraw(self, report_id: int, *, staff_id: int) -> None:
        """Take back an approved report (found false, or too revealing): deleted at once, so no lookup
        matches it and alerts still queued are not sent."""
        async with self.sessionmaker() as session, session.begin():
            report = await self._locked(session, report_id)
            if report.status != alerts.APPROVED:
                raise ModerationRefused(f"report #{report_id} is {report.status}, not approved")
            await session.delete(report)
            self._audit(session, staff_id, "report_withdraw", report=report_id)

    async def save(
        self,
        report_id: int,
        *,
        staff_id: int,
        texts: Mapping[str, str | None],
        severity: str | None,
        decision: str,
    ) -> int:
        """Keep the moderator's edits and severity, then ``approve``, ``reject`` or only ``save``; how
        many alerts were queued."""
        if decision not in ("save", "approve", "reject"):
            raise ModerationRefused(f"unknown decision {decision!r}")
        if severity and severity not in alerts.SEVERITIES:
            raise ModerationRefused(f"the severity is one of {', '.join(alerts.SEVERITIES)}")
        settings, now = self.settings, self.clock.now()
        async with self.sessionmaker() as session, session.begin():
            report = await self._locked(session, report_id)
            if report.status != alerts.PENDING:
                raise ModerationRefused(f"report #{report_id} is {report.status}: it can no longer change")
            changed = []
            for name in alerts.FIELDS:
                if name in texts and (texts[name] or "").strip() != (
                    alerts.field(self.crypto, report, name) or ""
                ):
                    alerts.set_field(self.crypto, report, name, texts[name])
                    changed.append(name)
            if severity:
                report.severity = severity
            if changed or severity:
                self._audit(
                    session, staff_id, "report_edit", report=report_id, changed=changed, severity=severity
                )
            if decision == "save":
                return 0
            try:
                queued = await alerts.decide(
                    session, self.crypto, report, approve=decision == "approve", severity=report.severity,
                    staff_id=staff_id, now=now, expiry_days=settings.alerts_expiry_days,
                    pacing_seconds=settings.alerts_pacing_seconds, zone=settings.timezone,
                )  # fmt: skip
            except alerts.ModerationError as exc:
                raise ModerationRefused(str(exc)) from exc
            self._audit(session, staff_id, f"report_{decision}", report=report_id, alerts=queued)
            return queued

    async def ask(self, report_id: int, *, staff_id: int, question: str) -> None:
        """Send the reporter a question through the bot; their answer comes back into the report."""
        question = question.strip()[:MAX_QUESTION_CHARS]
        if not question:
            raise ModerationRefused("write the question first")
        now = self.clock.now()
        async with self.sessionmaker() as session, session.begin():
            report = await self._locked(session, report_id)
            if report.conversation_id is None:
                raise ModerationRefused("this report cannot reach its reporter (phone line, or data deleted)")
            conversation = (
                await session.execute(
                    for_update(session, select(Conversation).where(Conversation.id == report.conversation_id))
                )
            ).scalar_one()
            node = self.flows.nodes[QUESTION_NODE]
            assert node.text is not None
            text = node.text.get(conversation.locale).replace("{alert_question}", question)
            skip = node.choices[0]
            conversation.node = QUESTION_NODE
            conversation.context = {**(conversation.context or {}), FOLLOWUP: report.id}
            await send_to_person(
                session, self.crypto, conversation=conversation, now=now, record=False,
                replies=[Reply(text, choices=(Choice(node.choice_id(skip), skip.label.get(conversation.locale)),))],
                push_channels=self.channels.push_channels,
            )  # fmt: skip
            alerts.add_followup(self.crypto, report, who="moderator", text=question)
            self._audit(session, staff_id, "report_ask", report=report_id)

    async def enter_from_phone(
        self, *, staff_id: int, province: str, texts: Mapping[str, str | None], phone: str | None
    ) -> int:
        """A report a caller left with a counsellor, entered in the console: pending, like one from the
        chat, with no way back to the caller. Its id."""
        found = find_province(province, self.knowledge)
        if found is None:
            raise ModerationRefused("unknown province: type its name, e.g. Hà Nội")
        if not (texts.get("what") or "").strip():
            raise ModerationRefused("write what happened")
        number = alerts.find_phone(phone) if phone and phone.strip() else None
        if phone and phone.strip() and number is None:
            raise ModerationRefused("the phone number is not a Vietnamese number")
        now, settings = self.clock.now(), self.settings
        async with self.sessionmaker() as session, session.begin():
            report = await alerts.start_draft(
                session, self.crypto, conversation=None, province=found.name, now=now, via="phone"
            )
            for name in alerts.FIELDS:
                alerts.set_field(self.crypto, report, name, texts.get(name))
            alerts.set_phone(self.crypto, report, number)
            await alerts.submit(
                session, report, now=now, expiry_days=settings.alerts_expiry_days, zone=settings.timezone
            )
            self._audit(session, staff_id, "report_phone_entry", report=report.id)
            return report.id

    async def _locked(self, session: AsyncSession, report_id: int) -> ClientReport:
        query = select(ClientReport).where(ClientReport.id == report_id)
        report = (await session.execute(for_update(session, query))).scalar_one_or_none()
        if report is None:
            raise ModerationRefused(f"no report #{report_id} (it may have expired)")
        return report
