"""Paging the on-call counsellors: outbox handlers, restart-safe and never paging twice.

``page`` (written by the engine with the escalation) pages level 0 of the chain; each level writes one
``page_send`` event per counsellor and route (so a retry of one never repeats the others) and a
``repage`` event due after ``HOTLINE_PAGE_ACK_SECONDS``. If nobody has taken it by then, the next
counsellor in the chain is paged, then everyone; after that the person is told, honestly, that nobody
could be reached yet, with the emergency numbers. Taking the escalation is the acknowledgement.

An emergency's first pages travel in the outbox's urgent lane, ahead of re-pages and notices. In a
flood, pages beyond ``HOTLINE_PAGE_COMBINE_ABOVE`` a minute to one recipient are combined
(:mod:`bot.escalation.digest`).
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.content.flows import Flows
from bot.escalation.digest import (
    add_to_digest,
    lock_recipient,
    pages_in_last_minute,
    recipient_key,
)
from bot.escalation.notify import send_to_person
from bot.escalation.rota import chain_at, everyone, target
from bot.messages import Reply
from bot.metrics import FIRST_PAGE_SECONDS, level_of
from bot.outbox.dispatcher import Dispatcher, Event, GiveUp
from bot.settings import Settings
from bot.store.conversations import add_message
from bot.store.crypto import Crypto
from bot.store.escalations import linked, lock_escalation, staff_reachable
from bot.store.models import Contact, Conversation, Counsellor, Escalation, OutboxEvent
from bot.store.outbox import LANE_OTHER, LANE_URGENT, enqueue
from bot.store.outbox_kinds import (
    CASE_DELETED,
    HANDOVER,
    PAGE,
    PAGE_DIGEST,
    PAGE_SEND,
    PAGE_UPDATE,
    RELAY_TO_STAFF,
    REPAGE,
    STAFF_NOTICE,
    PagePayload,
    PageRoute,
    PageSendPayload,
)

log = logging.getLogger(__name__)

STAFF_GROUP = "staff_group"
FIRST_PAGES_REMEMBERED = 1000


@dataclass(frozen=True)
class Page:
    """What a page says, in both languages, and the id a "take" button carries."""

    escalation_id: int
    text_vi: str
    text_en: str
    button_vi: str
    button_en: str

    @property
    def text(self) -> str:
        return f"{self.text_vi}\n{self.text_en}"

    @property
    def button(self) -> str:
        return self.button_vi

    @property
    def take_data(self) -> str:
        return f"take:{self.escalation_id}"


class Pager(Protocol):
    """One way of reaching staff (Telegram, SMS, a phone call)."""

    route: str

    async def page(self, address: str, page: Page) -> None:
        """Send a page to ``address`` (a chat id or a phone number); raise ``Retry`` to try again."""
        ...

    async def notify(self, address: str, text: str) -> None:
        """Send a plain message (a relayed line, a notice) where the route can carry one."""
        ...


class Paging:
    """The outbox handlers of escalation."""

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        crypto: Crypto,
        clock: Clock,
        settings: Settings,
        flows: Flows,
        push_channels: frozenset[str],
        pagers: Mapping[str, Pager],
    ) -> None:
        self.sessionmaker = sessionmaker
        self.crypto = crypto
        self.clock = clock
        self.settings = settings
        self.flows = flows
        self.push_channels = push_channels
        self.pagers = pagers
        self.dispatcher: Dispatcher | None = None
        # Escalations whose first page this process has timed (hotline_escalation_first_page_seconds).
        self._first_paged: OrderedDict[int, None] = OrderedDict()

    def register(self, dispatcher: Dispatcher) -> None:
        self.dispatcher = dispatcher
        dispatcher.register(PAGE, self.on_page)
        dispatcher.register(REPAGE, self.on_page)
        dispatcher.register(PAGE_SEND, self.on_page_send)
        dispatcher.register(PAGE_DIGEST, self.on_page_digest)
        dispatcher.register(PAGE_UPDATE, self.on_page_update)
        dispatcher.register(RELAY_TO_STAFF, self.on_relay_to_staff)
        dispatcher.register(STAFF_NOTICE, self.on_staff_notice)
        dispatcher.register(CASE_DELETED, self.on_case_deleted)
        dispatcher.register(HANDOVER, self.on_handover)

    # -- the page text -------------------------------------------------------------------------------

    def compose(self, escalation: Escalation) -> Page:
        zone = ZoneInfo(self.settings.timezone)
        since = escalation.created_at.astimezone(zone).strftime("%H:%M")
        texts = {}
        for locale in ("vi", "en"):
            risk = self.flows.string(f"risk_{escalation.risk}", locale) if escalation.risk else ""
            texts[locale] = self.flows.string(
                "staff_page",
                locale,
                alarm="🚨" if escalation.kind == "emergency" else "🔔",
                id=str(escalation.id),
                kind=self.flows.string(f"kind_{escalation.kind}", locale),
                risk=f" ({risk})" if risk else "",
                channel=escalation.channel,
                since=since,
            )
        return Page(
            escalation.id,
            texts["vi"],
            texts["en"],
            self.flows.string("staff_take_button", "vi"),
            self.flows.string("staff_take_button", "en"),
        )

    # -- handlers ------------------------------------------------------------------------------------

    def _routes(self, counsellor: Counsellor) -> list[tuple[str, str]]:
        who = target(self.crypto, counsellor)
        routes: list[tuple[str, str]] = []
        if who.telegram_chat and "telegram" in self.pagers:
            routes.append(("telegram", who.telegram_chat))
        if who.phone:
            for route in ("sms", "voice"):
                if route in self.pagers:
                    routes.append((route, who.phone))
        return routes

    async def on_page(self, event: Event) -> None:
        """Page one level of the chain (``page`` is level 0, ``repage`` the next ones)."""
        level = int(event.payload.get("level", 0))
        now = self.clock.now()
        async with self.sessionmaker() as session, session.begin():
            escalation = await lock_escalation(session, int(event.payload["escalation_id"]))
            if escalation is None or escalation.status != "open":
                return  # taken or closed in the meantime: that was the acknowledgement
            if escalation.paged_at is not None and level <= escalation.page_level:
                return  # this level was already paged (the event is a repeat after a crash)
            chain = await chain_at(session, now)
            staff_group = self.settings.telegram_staff_chat_id is not None and "telegram" in self.pagers
            if level < len(chain):
                counsellors = [chain[level]]
            elif level == len(chain):
                counsellors = await everyone(session)
            else:
                await self._unreached(session, escalation, now)
                return
            sends = [(route, address, c.id) for c in counsellors for route, address in self._routes(c)]
            if staff_group and (level == 0 or level == len(chain)):
                sends.append((STAFF_GROUP, str(self.settings.telegram_staff_chat_id), 0))
            lane = LANE_URGENT if level == 0 and escalation.kind == "emergency" else LANE_OTHER
            combine = level == 0 and bool(event.payload.get("combine"))
            for route, address, counsellor_id in sends:
                await self._queue_send(
                    session,
                    escalation,
                    PageRoute(route=route, address=address, counsellor_id=counsellor_id, level=level),
                    lane=lane,
                    now=now,
                    combine=combine,
                )
            escalation.page_level = level
            if escalation.paged_at is None:
                escalation.paged_at = now
                contact = await session.get(Contact, escalation.contact_id) if escalation.contact_id else None
                if contact is not None:
                    contact.paged_at = now
            log.info("escalation #%d: paged level %d (%d messages)", escalation.id, level, len(sends))
            if not sends and level < len(chain):
                delay = timedelta(0)  # nobody reachable at this level: go on at once
            else:
                delay = timedelta(seconds=self.settings.page_ack_seconds)
            await enqueue(
                session,
                self.crypto,
                kind=REPAGE,
                payload=PagePayload(escalation_id=escalation.id, level=level + 1),
                now=now,
                not_before=now + delay,
                escalation_id=escalation.id,
            )

    async def _queue_send(
        self,
        session: AsyncSession,
        escalation: Escalation,
        send: PageRoute,
        *,
        lane: int,
        now: datetime,
        combine: bool = False,
    ) -> None:
        """One page to one recipient, or, above the per-minute limit (or for a client that paged already
        within the hour: ``combine``), a place in their combined page."""
        recipient = recipient_key(self.crypto, str(send["route"]), str(send["address"]))
        limit = self.settings.page_combine_above
        if limit > 0:
            await lock_recipient(session, recipient)
        if limit > 0 and (combine or await pages_in_last_minute(session, recipient, now) >= limit):
            due = await add_to_digest(
                session,
                self.crypto,
                recipient=recipient,
                payload=send,
                escalation_id=escalation.id,
                now=now,
                every=timedelta(seconds=self.settings.page_combine_seconds),
                per_minute=self.settings.page_combined_per_minute,
            )
            if due is not None and due > now and self.dispatcher is not None:
                # Nobody commits anything at that moment to wake the dispatcher: it would find the
                # digest only at its next look (up to a second late).
                self.dispatcher.wake_after((due - now).total_seconds())
            return
        await enqueue(
            session,
            self.crypto,
            kind=PAGE_SEND,
            payload=PageSendPayload(escalation_id=escalation.id, **send),
            now=now,
            escalation_id=escalation.id,
            lane=lane,
            recipient=recipient,
        )

    async def _unreached(self, session: AsyncSession, escalation: Escalation, now: datetime) -> None:
        """Nobody took it after everyone was paged: say so to the person (once), keep it in the queue."""
        contact, conversation = await linked(session, escalation)
        if contact is not None:
            if contact.unreached:
                return
            contact.unreached = True
        log.warning("escalation #%d: nobody took it after everyone was paged", escalation.id)
        if conversation is None or not await staff_reachable(session, self.settings):
            return  # with no staff at all, the person was told so at once (emergency.no_staff)
        key = "nobody_reached" if escalation.kind == "emergency" else "counsellor_unreached"
        await send_to_person(
            session,
            self.crypto,
            conversation=conversation,
            replies=[Reply(self.flows.string(key, conversation.locale))],
            now=now,
            push_channels=self.push_channels,
        )

    async def on_page_send(self, event: Event) -> None:
        pager = self.pagers.get(
            "telegram" if event.payload["route"] == STAFF_GROUP else event.payload["route"]
        )
        if pager is None:
            raise GiveUp(f"no pager for route {event.payload['route']!r}")
        async with self.sessionmaker() as session:
            escalation = await session.get(Escalation, int(event.payload["escalation_id"]))
            if escalation is None or escalation.status != "open":
                return  # taken meanwhile: no need to disturb anyone
            page = self.compose(escalation)
        await pager.page(str(event.payload["address"]), page)
        await self._time_first_page(escalation, event.id)

    async def on_page_digest(self, event: Event) -> None:
        """Several escalations for one recipient in a flood: one message, or a plain page if one is left."""
        route = str(event.payload["route"])
        pager = self.pagers.get("telegram" if route == STAFF_GROUP else route)
        if pager is None:
            raise GiveUp(f"no pager for route {route!r}")
        ids = [int(i) for i in event.payload["escalation_ids"]]
        async with self.sessionmaker() as session:
            waiting = list(
                (
                    await session.execute(
                        select(Escalation).where(Escalation.id.in_(ids), Escalation.status == "open")
                    )
                ).scalars()
            )
        address = str(event.payload["address"])
        if not waiting:
            return  # all taken meanwhile
        if len(waiting) == 1:
            await pager.page(address, self.compose(waiting[0]))
            await self._time_first_page(waiting[0], event.id)
            return
        values = {
            "count": str(len(waiting)),
            "emergencies": str(sum(e.kind == "emergency" for e in waiting)),
            "url": f"{self.settings.public_url.rstrip('/')}/console",
        }
        text_vi = self.flows.string("staff_page_combined", "vi", **values)
        text_en = self.flows.string("staff_page_combined", "en", **values)
        if route == "voice":  # a call reads a page out; it has nothing else to say
            button = self.flows.string("staff_take_button", "vi")
            await pager.page(address, Page(min(ids), text_vi, text_en, button, button))
            return
        await pager.notify(address, f"{text_vi}\n{text_en}")

    async def _time_first_page(self, escalation: Escalation, event_id: int) -> None:
        """Observe the time to the first page that reached a counsellor, once per escalation.

        Once: this process remembers what it timed (the recent ones), and a page sent after another
        one of the same escalation was recorded sent (by any process) is not the first. Two first pages
        sent at the same moment by two processes may both be timed; the histogram shrugs that off.
        """
        if escalation.id in self._first_paged:
            return
        try:
            earlier = await self._pages_sent_before(escalation.id, event_id)
        except Exception as exc:  # the page is sent: a failed count must never make it go again
            log.warning("escalation #%d: first page not timed (%s)", escalation.id, type(exc).__name__)
            return
        if escalation.id in self._first_paged or earlier:
            return
        self._first_paged[escalation.id] = None
        while len(self._first_paged) > FIRST_PAGES_REMEMBERED:
            self._first_paged.popitem(last=False)
        waited = (self.clock.now() - escalation.created_at).total_seconds()
        FIRST_PAGE_SECONDS.labels(level=level_of(escalation.kind)).observe(max(waited, 0.0))

    async def _pages_sent_before(self, escalation_id: int, event_id: int) -> int:
        """How many other pages of this escalation were recorded sent (once per escalation and process:
        a scan of the outbox, which the retention purge keeps small)."""
        async with self.sessionmaker() as session:
            earlier = await session.scalar(
                select(func.count())
                .select_from(OutboxEvent)
                .where(
                    OutboxEvent.escalation_id == escalation_id,
                    OutboxEvent.kind == PAGE_SEND,
                    OutboxEvent.status == "done",
                    OutboxEvent.id != event_id,
                )
            )
        return int(earlier or 0)

    async def on_page_update(self, event: Event) -> None:
        """The person wrote again while nobody has taken it: tell the staff group."""
        pager = self.pagers.get("telegram")
        if pager is None or self.settings.telegram_staff_chat_id is None:
            return
        async with self.sessionmaker() as session:
            escalation = await session.get(Escalation, int(event.payload["escalation_id"]))
            if escalation is None or escalation.status != "open":
                return
        # The page goes out after the session is handed back: no connection is held while Telegram answers.
        if event.payload.get("reason") == "emergency":
            await pager.page(str(self.settings.telegram_staff_chat_id), self.compose(escalation))
            return
        text = self.flows.string("staff_new_message", "vi", id=str(escalation.id))
        await pager.notify(str(self.settings.telegram_staff_chat_id), text)

    async def _counsellor_chat(self, session: AsyncSession, conversation: Conversation | None) -> str | None:
        """The Telegram chat of the counsellor holding the conversation, if they took it there."""
        if conversation is None or conversation.held_by is None:
            return None
        if (conversation.context or {}).get("held_via") != "telegram":
            return None
        counsellor = await session.get(Counsellor, conversation.held_by)
        if counsellor is None or not counsellor.telegram_chat_enc:
            return None
        return self.crypto.decrypt(counsellor.telegram_chat_enc)

    async def on_relay_to_staff(self, event: Event) -> None:
        """A message from the person to the counsellor who holds the conversation (Telegram or console)."""
        pager = self.pagers.get("telegram")
        if pager is None or event.conversation_id is None:
            return  # the console reads the transcript itself
        async with self.sessionmaker() as session:
            conversation = await session.get(Conversation, event.conversation_id)
            chat = await self._counsellor_chat(session, conversation)
        if chat is None:
            return
        escalation_id = event.payload.get("escalation_id") or event.escalation_id or 0
        prefix = "🚨 " if event.payload.get("urgent") else ""
        text = prefix + self.flows.string(
            "staff_relay", "vi", id=str(escalation_id), text=event.payload["text"]
        )
        await pager.notify(chat, text)

    async def on_staff_notice(self, event: Event) -> None:
        """A channel tells the counsellor something about their conversation (e.g. a held message)."""
        conversation_id = event.payload.get("conversation_id") or event.conversation_id
        reason = str(event.payload.get("reason", "notice"))
        if conversation_id is None:
            return
        now = self.clock.now()
        async with self.sessionmaker() as session, session.begin():
            conversation = await session.get(Conversation, int(conversation_id))
            if conversation is None:
                return
            escalation_id = conversation.escalation_id or 0
            key = f"staff_notice_{reason}"
            if key not in self.flows.strings:
                key = "staff_new_message"
            text = self.flows.string(key, "vi", id=str(escalation_id))
            await add_message(
                session, self.crypto, conversation_id=conversation.id, direction="note", text=text, now=now
            )
            chat = await self._counsellor_chat(session, conversation)
        pager = self.pagers.get("telegram")
        if chat is not None and pager is not None:
            await pager.notify(chat, text)

    async def on_case_deleted(self, event: Event) -> None:
        """The person deleted their data while a counsellor held the case on Telegram: tell them it ended."""
        pager = self.pagers.get("telegram")
        if pager is None or event.payload.get("via") != "telegram":
            return  # the console shows the case closed
        async with self.sessionmaker() as session:
            counsellor = await session.get(Counsellor, int(event.payload["counsellor_id"]))
        if counsellor is None or not counsellor.telegram_chat_enc:
            return
        text = self.flows.string("staff_case_deleted", "vi", id=str(event.payload["escalation_id"]))
        await pager.notify(self.crypto.decrypt(counsellor.telegram_chat_enc), text)

    async def on_handover(self, event: Event) -> None:
        """A case was handed over with a note: page the counsellor it went to, on each of their routes
        that can carry a message (Telegram, SMS). The page names the case and who handed it over; the
        note itself stays in the console."""
        async with self.sessionmaker() as session:
            escalation = await session.get(Escalation, int(event.payload["escalation_id"]))
            counsellor = await session.get(Counsellor, int(event.payload["counsellor_id"]))
            sender = await session.get(Counsellor, int(event.payload["from_counsellor_id"]))
        if escalation is None or counsellor is None or escalation.status != "taken":
            return  # closed meanwhile
        if escalation.taken_by != counsellor.id:
            return  # handed on again: the next hand-over pages its own counsellor
        values = {
            "id": str(escalation.id),
            "name": sender.display_name if sender is not None else "?",
            "url": f"{self.settings.public_url.rstrip('/')}/console/escalations/{escalation.id}",
        }
        text = "\n".join(self.flows.string("staff_handover", locale, **values) for locale in ("vi", "en"))
        for route, address in self._routes(counsellor):
            pager = self.pagers.get(route)
            if pager is not None:
                await pager.notify(address, text)
