"""Sending an approved bad-client alert to one subscriber: the outbox handler of ``alert_send``.

A moderator's approval writes one ``alert_send`` event per subscriber of the report's province, each
``alerts_pacing_seconds`` after the one before (bot/store/alerts.py), so a large province never floods a
channel and a restart loses nothing. At its time the event looks again: a subscription gone (the person
opted out, or deleted their data) or a report gone (expired, deleted) sends nothing. Otherwise the
``alerts.alert`` node (``alerts.alert_discreet`` for discreet wording) goes to the person through their own
channel, as a check-in's question does (:func:`bot.escalation.notify.send_to_person`), without moving
the conversation from the question it waits at.
"""

from __future__ import annotations

import logging

from sqlalchemy import select

from bot.engine.alerts import values
from bot.engine.deps import EngineDeps
from bot.engine.steps import run_from
from bot.engine.turn import unprompted_turn
from bot.escalation.notify import send_to_person
from bot.outbox.dispatcher import Dispatcher, Event
from bot.store import alerts
from bot.store.locking import for_update
from bot.store.models import AlertSubscription, ClientReport, Conversation
from bot.store.outbox_kinds import ALERT_SEND

log = logging.getLogger(__name__)

ALERT_NODE = "alerts.alert"
DISCREET = "_discreet"


class AlertSender:
    """The ``alert_send`` handler."""

    def __init__(self, deps: EngineDeps) -> None:
        self.deps = deps

    def register(self, dispatcher: Dispatcher) -> None:
        dispatcher.register(ALERT_SEND, self.on_send)

    async def on_send(self, event: Event) -> None:
        deps = self.deps
        report_id = int(event.payload["report_id"])
        subscription_id = int(event.payload["subscription_id"])
        now = deps.clock.now()
        async with deps.sessionmaker() as session, session.begin():
            subscription = await session.get(AlertSubscription, subscription_id)
            report = await session.get(ClientReport, report_id)
            if (
                subscription is None
                or report is None
                or report.status != alerts.APPROVED
                or report.expires_at <= now
                or subscription.province != report.province
            ):
                return  # opted out, moved to another province, or the report is gone: nothing to send
            conversation = (
                await session.execute(
                    for_update(
                        session, select(Conversation).where(Conversation.id == subscription.conversation_id)
                    )
                )
            ).scalar_one_or_none()
            if conversation is None:
                return
            turn = await unprompted_turn(session, deps, conversation, now)
            turn.extra.update(values(turn, report))
            # The person may be waiting at a question (a check-in's "are you OK?", a report half
            # written): the alert is shown without moving them from it (its buttons work from anywhere).
            waiting = conversation.node
            await run_from(turn, ALERT_NODE + DISCREET if subscription.discreet else ALERT_NODE)
            conversation.node = waiting
            await send_to_person(
                session,
                deps.crypto,
                conversation=conversation,
                replies=turn.replies,
                now=now,
                push_channels=deps.push_channels,
            )
            await alerts.count(session, alerts.ALERTS_SENT, now=now, zone=deps.settings.timezone)
            log.info("alert #%d sent to one subscriber", report.id)
        if deps.after_commit is not None:
            deps.after_commit()
