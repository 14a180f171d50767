"""Every kind of outbox event, and the payload each carries (encrypted in the row).

One module for all of them, so that a writer and the handler that reads the event agree on one name and
one shape (:func:`bot.store.outbox.enqueue` writes them; the parts named below register their handlers with
the dispatcher). Payloads hold ids and what must be sent, never more: a person's address is in a
``deliver`` payload only because it is needed to reply, and the whole payload is encrypted.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NotRequired, TypedDict

DELIVER = "deliver"
"""Replies to a person through a push channel (Telegram, Zalo); handled by the runtime's ``deliver``."""
INBOX = "inbox"
"""A counsellor's message waiting for the web chat page, which fetches it; never dispatched."""
PAGE = "page"
"""An escalation's first page (level 0); :mod:`bot.escalation.paging`."""
REPAGE = "repage"
"""The next level of the chain, when nobody took the escalation in time."""
PAGE_SEND = "page_send"
"""One page to one recipient by one route (Telegram, SMS, voice)."""
PAGE_DIGEST = "page_digest"
"""Several escalations in one page to one recipient (:mod:`bot.escalation.digest`)."""
PAGE_UPDATE = "page_update"
"""Staff told that an open escalation became an emergency, or that the person wrote again."""
RELAY_TO_STAFF = "relay_to_staff"
"""A person's words to the counsellor who holds their conversation."""
STAFF_NOTICE = "staff_notice"
"""Staff told that the outbox held a conversation's events (bot/outbox/dispatcher.py)."""
CASE_DELETED = "case_deleted"
"""The counsellor who held a case told that the person deleted it (:mod:`bot.store.erasure`)."""
HANDOVER = "handover"
"""A counsellor told that a case was handed over to them with a note (the note stays in the console)."""
TELEGRAM_CLEANUP = "telegram_cleanup"
"""Messages shown in a Telegram chat, deleted after their time (bot/channels/telegram/shown.py)."""
CHECKIN_DUE = "checkin_due"
"""A safety check-in's next step is due: ask, remind, or page staff (:mod:`bot.escalation.checkins`)."""
PHONE_CHECKIN = "phone_checkin"
"""A phone check-in's next step is due: call back, call again, or page staff (:mod:`ivr.checkin_call`);
its payload is a :class:`CheckinDuePayload`."""


class DeliverPayload(TypedDict):
    address: str
    replies: list[dict[str, Any]]  # bot.messages.Reply.to_json
    emergency: NotRequired[bool]  # the safety reply: the outbox times it when it is sent


class InboxPayload(TypedDict):
    replies: list[dict[str, Any]]


class PagePayload(TypedDict):
    """``page`` and ``repage``."""

    escalation_id: int
    level: int
    combine: NotRequired[bool]  # a first page that goes only in a combined page


class PageUpdatePayload(TypedDict):
    escalation_id: int
    reason: str  # emergency | new_message


class PageRoute(TypedDict):
    """Who one page goes to, and how."""

    route: str
    address: str
    counsellor_id: int  # 0: the staff group
    level: int


class PageSendPayload(PageRoute):
    escalation_id: int


class PageDigestPayload(PageRoute):
    escalation_ids: list[int]


class RelayToStaffPayload(TypedDict):
    escalation_id: int | None
    counsellor_id: int | None
    text: str
    urgent: bool


class StaffNoticePayload(TypedDict):
    conversation_id: int | None
    reason: str
    held_event_id: int


class CaseDeletedPayload(TypedDict):
    escalation_id: int
    counsellor_id: int
    via: str | None  # where the counsellor held it: "telegram", or the console


class HandoverPayload(TypedDict):
    escalation_id: int
    counsellor_id: int  # who it was handed to
    from_counsellor_id: int


class TelegramCleanupPayload(TypedDict):
    chat_id: str
    messages: list[list[Any]]  # [message id, when it was shown]


class CheckinDuePayload(TypedDict):
    """A check-in's timer; it does nothing unless the check-in is still at ``revision``."""

    checkin_id: int
    revision: int


def due_payload(payload: Mapping[str, Any]) -> CheckinDuePayload:
    """A check-in timer's payload as read back from the outbox (``checkin_due``, ``phone_checkin``)."""
    return {"checkin_id": int(payload["checkin_id"]), "revision": int(payload["revision"])}


ALERT_SEND = "alert_send"
"""One approved bad-client alert to one subscriber, paced (:mod:`bot.escalation.alerts`); nothing is sent
when the subscription or the report is gone by then (opted out, expired, deleted)."""


class AlertSendPayload(TypedDict):
    report_id: int
    subscription_id: int
