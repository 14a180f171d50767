"""The database tables (SQLAlchemy 2 declarative models).

Nothing here holds a phone number, a platform id or a name in clear: people are pseudonymous keys,
and what must be read again (addresses, transcripts, relayed text, staff contact routes) is encrypted
(columns ending in ``_enc``). Statistics (:class:`Contact`) keep no content and survive the purge.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every database (SQLite stores naive values)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        from datetime import UTC

        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        from datetime import UTC

        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSON,
        list[Any]: JSON,
    }


class Conversation(Base):
    """One person on one channel: where they are in the flows, and how to reach them (encrypted)."""

    __tablename__ = "conversations"
    __table_args__ = (UniqueConstraint("channel", "user_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(32))
    user_key: Mapped[str] = mapped_column(String(64))
    address_enc: Mapped[str | None] = mapped_column(Text)
    locale: Mapped[str] = mapped_column(String(8), default="vi")
    locale_chosen: Mapped[bool] = mapped_column(Boolean, default=False)
    node: Mapped[str | None] = mapped_column(String(128))
    context: Mapped[dict[str, Any]] = mapped_column(default=dict)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id", ondelete="SET NULL"))
    escalation_id: Mapped[int | None] = mapped_column(
        ForeignKey("escalations.id", ondelete="SET NULL", use_alter=True)
    )
    held_by: Mapped[int | None] = mapped_column(ForeignKey("counsellors.id", ondelete="SET NULL"))
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]


class Message(Base):
    """One line of a transcript, encrypted; purged after the retention period."""

    __tablename__ = "messages"
    __table_args__ = (Index("ix_messages_conversation_created", "conversation_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    direction: Mapped[str] = mapped_column(String(8))  # in | out | staff
    body_enc: Mapped[str] = mapped_column(Text)
    transport_ref_enc: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]


class ProcessedMessage(Base):
    """A transport message already handled (keyed hash of its id), with the replies it got.

    ``conversation_id`` ties the cached replies to the person, so that deleting their data removes them;
    it is left empty on the message that asked for the deletion (its replies are only the confirmation).
    """

    __tablename__ = "processed_messages"

    channel: Mapped[str] = mapped_column(String(32), primary_key=True)
    ref_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    conversation_id: Mapped[int | None] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    replies_enc: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(index=True)


class Contact(Base):
    """One chat session or call, for statistics. No content, no user key: kept after purges."""

    __tablename__ = "contacts"

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(32), index=True)
    stats_key: Mapped[str] = mapped_column(String(24))
    started_at: Mapped[datetime] = mapped_column(index=True)
    ended_at: Mapped[datetime]
    locale: Mapped[str] = mapped_column(String(8))
    message_count: Mapped[int] = mapped_column(Integer, default=0)
    topics: Mapped[list[Any]] = mapped_column(default=list)
    articles: Mapped[list[Any]] = mapped_column(default=list)
    menu_path: Mapped[list[Any]] = mapped_column(default=list)
    referrals: Mapped[list[Any]] = mapped_column(default=list)
    province: Mapped[str | None] = mapped_column(String(64))
    helpful: Mapped[bool | None] = mapped_column(Boolean)
    emergency: Mapped[bool] = mapped_column(Boolean, default=False)
    counsellor_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    paged_at: Mapped[datetime | None]
    taken_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    outcome: Mapped[str | None] = mapped_column(String(32))
    unreached: Mapped[bool] = mapped_column(Boolean, default=False)
    # "are you in danger right now?" (the safety check's level ``possible``): listed, never paged
    possible_at: Mapped[datetime | None]
    possible_kind: Mapped[str | None] = mapped_column(String(32))
    possible_answer: Mapped[str | None] = mapped_column(String(16))  # danger | information | None
    # calls
    call_status: Mapped[str | None] = mapped_column(String(32))
    dial_outcome: Mapped[str | None] = mapped_column(String(32))
    counsellor_answer_seconds: Mapped[int | None] = mapped_column(Integer)
    abandoned: Mapped[bool] = mapped_column(Boolean, default=False)
    callback_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    call_ref_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    # safety check-ins (bot/store/checkins.py): how many were set, answered and escalated in this contact
    checkins_set: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    checkins_answered: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    checkins_escalated: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class OutboxEvent(Base):
    """A side effect that must not be lost: written in the same transaction as the state change."""

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_due", "status", "not_before"),
        Index("ix_outbox_lane", "status", "lane", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), index=True)
    channel: Mapped[str | None] = mapped_column(String(32))
    conversation_id: Mapped[int | None] = mapped_column(ForeignKey("conversations.id", ondelete="SET NULL"))
    escalation_id: Mapped[int | None] = mapped_column(ForeignKey("escalations.id", ondelete="SET NULL"))
    ordering_key: Mapped[str | None] = mapped_column(String(80), index=True)
    # Claimed lowest first: 0 a reply to a person, 1 an emergency's first page, 2 the rest
    # (bot.store.outbox.LANE_*).
    lane: Mapped[int] = mapped_column(SmallInteger, default=2, server_default="2")
    # Who a page goes to, as a keyed hash of route and address (never in clear): combining pages counts by it.
    recipient: Mapped[str | None] = mapped_column(String(32), index=True)
    payload_enc: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending|done|dead|held
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    not_before: Mapped[datetime]
    claimed_until: Mapped[datetime | None]
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    last_error: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime]
    done_at: Mapped[datetime | None]
    # Written for a person whose data was just deleted (the "deleted" confirmation, the clean-up of their
    # chat): the row is deleted as soon as it is finished (sent, given up or held), never kept as ``done``.
    erase_when_done: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class Counsellor(Base):
    """A member of staff who can be paged. Contact routes are encrypted."""

    __tablename__ = "counsellors"

    id: Mapped[int] = mapped_column(primary_key=True)
    display_name: Mapped[str] = mapped_column(String(80))
    telegram_chat_enc: Mapped[str | None] = mapped_column(Text)
    telegram_user_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    phone_enc: Mapped[str | None] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]


class Shift(Base):
    """Who is on call when; ``position`` orders the chain (0 = first paged, then backups)."""

    __tablename__ = "shifts"

    id: Mapped[int] = mapped_column(primary_key=True)
    counsellor_id: Mapped[int] = mapped_column(ForeignKey("counsellors.id", ondelete="CASCADE"))
    starts_at: Mapped[datetime] = mapped_column(index=True)
    ends_at: Mapped[datetime]
    position: Mapped[int] = mapped_column(Integer, default=0)


class StaffAccount(Base):
    """A console login (counsellor or supervisor), with an Argon2 password hash."""

    __tablename__ = "staff_accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))  # counsellor | supervisor | moderator (alerts)
    counsellor_id: Mapped[int | None] = mapped_column(ForeignKey("counsellors.id", ondelete="SET NULL"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]


class Escalation(Base):
    """A person who needs a human: an emergency, a request for a counsellor, or a call-back."""

    __tablename__ = "escalations"

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int | None] = mapped_column(ForeignKey("conversations.id", ondelete="SET NULL"))
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id", ondelete="SET NULL"))
    channel: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(16))  # emergency | counsellor | callback
    risk: Mapped[str | None] = mapped_column(String(32))  # violence_now, suicide_self_harm, ...
    status: Mapped[str] = mapped_column(String(16), default="open")  # open|taken|closed|unreached
    page_level: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(index=True)
    paged_at: Mapped[datetime | None]
    taken_at: Mapped[datetime | None]
    taken_by: Mapped[int | None] = mapped_column(ForeignKey("counsellors.id", ondelete="SET NULL"))
    closed_at: Mapped[datetime | None]
    outcome: Mapped[str | None] = mapped_column(String(32))
    callback_phone_enc: Mapped[str | None] = mapped_column(Text)
    # Opened by a client over its emergency cap (bot/engine/floods.py): queued and shown, never paged.
    flooded: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # The close form (bot/store/closeform.py): codes only, counted by `hotline stats`.
    close_reasons: Mapped[list[Any] | None] = mapped_column(JSON)
    close_risk: Mapped[str | None] = mapped_column(String(16))
    close_referrals: Mapped[list[Any] | None] = mapped_column(JSON)  # referral directory ids
    follow_up: Mapped[bool | None] = mapped_column(Boolean)


class FloodCount(Base):
    """How often one client did one capped thing in one time window (bot/engine/floods.py).

    ``key_hash`` is a keyed hash of what was counted, the window length and the client (a keyed hash of
    a web chat address, or a chat's pseudonymous key): it cannot be turned back into an address or
    linked to a conversation. Rows are deleted once their window is over (``expires_at``).
    """

    __tablename__ = "flood_counts"

    key_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    window_start: Mapped[datetime] = mapped_column(primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)
    expires_at: Mapped[datetime] = mapped_column(index=True)


class AuditEntry(Base):
    """Who opened or did what (console, Telegram, command line), and when; for what reason, and what changed."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_accounts.id", ondelete="SET NULL"))
    counsellor_id: Mapped[int | None] = mapped_column(ForeignKey("counsellors.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(32))
    escalation_id: Mapped[int | None] = mapped_column(ForeignKey("escalations.id", ondelete="SET NULL"))
    conversation_id: Mapped[int | None] = mapped_column(ForeignKey("conversations.id", ondelete="SET NULL"))
    at: Mapped[datetime] = mapped_column(index=True)
    # why a transcript was read by someone who does not hold the case (``desk.READ_REASONS``)
    reason: Mapped[str | None] = mapped_column(String(32))
    # what changed or how it was done, as JSON without personal data (no Telegram ids, no phone numbers)
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class StoredSecret(Base):
    """A credential the service rotates itself (e.g. Zalo OA tokens), encrypted."""

    __tablename__ = "stored_secrets"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value_enc: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime]


class KeyVersion(Base):
    """The version in use of one rotatable key (bot/store/crypto.py); no row means version 1.

    Only version numbers: every key is derived from the root secret, which never enters the database.
    ``previous`` is the encryption version still read while ``hotline rotate-key encryption`` re-encrypts
    the stored data; ``changed_at`` tells the command when every process has learnt the new version.
    """

    __tablename__ = "key_versions"

    purpose: Mapped[str] = mapped_column(String(32), primary_key=True)
    version: Mapped[int] = mapped_column(Integer)
    previous: Mapped[int | None] = mapped_column(Integer)
    changed_at: Mapped[datetime]


class ConsoleSession(Base):
    """A console login, kept on the server so that it can end: at logout, at a password change, when the
    account is deactivated, after ``console_idle_minutes`` without a request, and ``console_session_hours``
    after the login at the latest (bot/console/sessions.py). The browser's cookie holds a random token;
    this row holds only a keyed hash of it, so a copy of the database opens no session, and a new console
    key ends every session."""

    __tablename__ = "console_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_accounts.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    expires_at: Mapped[datetime] = mapped_column(index=True)  # the absolute end


class ScreenedCall(Base):
    """A counsellor's leg of a phone call on which they pressed 1 to take the caller (ivr/ringing.py):
    the keyed hash of Twilio's id for that leg, nothing else. Purged with the de-duplication ids
    (``HOTLINE_PURGE_DEDUP_HOURS``)."""

    __tablename__ = "phone_screens"

    ref_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(index=True)


class Checkin(Base):
    """A timed safety check-in ("check on me in an hour"): the bot asks at ``due_at`` whether the person
    is all right, reminds them, and pages staff when nobody answers (bot/escalation/checkins.py).

    ``stage``: set -> asked -> reminded -> escalated, or answered / cancelled at any time. The note
    (where, who) and, for the phone line, the number to call back are encrypted and wiped when the
    check-in ends (``ended_at``); the ended row keeps no content. ``revision`` counts the check-in's
    timers: an outbox ``checkin_due`` event names the revision it was written for, so a timer left
    from before an extension or a cancellation does nothing (bot/store/checkins.py).
    """

    __tablename__ = "checkins"

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    # the statistics' row of the session in which it was set: counted there when answered or escalated
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id", ondelete="SET NULL"))
    channel: Mapped[str] = mapped_column(String(32))
    stage: Mapped[str] = mapped_column(String(16), default="set")
    discreet: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    set_at: Mapped[datetime]
    due_at: Mapped[datetime] = mapped_column(index=True)
    asked_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    revision: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    note_enc: Mapped[str | None] = mapped_column(Text)
    # the phone line: the number to call back (encrypted) and the outbound call's id, while it rings
    callee_enc: Mapped[str | None] = mapped_column(Text)
    call_ref: Mapped[str | None] = mapped_column(String(64))
    escalation_id: Mapped[int | None] = mapped_column(ForeignKey("escalations.id", ondelete="SET NULL"))


class DeskNote(Base):
    """A counsellor's note on a conversation, or the note that goes with a hand-over (``kind``), for staff
    only: encrypted, audited when written and read, deleted with the conversation (erasure) and with its
    messages (retention)."""

    __tablename__ = "desk_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    escalation_id: Mapped[int | None] = mapped_column(ForeignKey("escalations.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(16), default="note")  # note | handover
    counsellor_id: Mapped[int | None] = mapped_column(ForeignKey("counsellors.id", ondelete="SET NULL"))
    to_counsellor_id: Mapped[int | None] = mapped_column(ForeignKey("counsellors.id", ondelete="SET NULL"))
    text_enc: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(index=True)


class LoginFailure(Base):
    """Failed console logins of one client (bot/console/throttle.py): an address, a user name from an
    address, or a known browser, always as a keyed hash. While ``locked_until`` is ahead, that client's
    attempts are answered 429 without checking the password. Deleted at ``expires_at``."""

    __tablename__ = "login_failures"

    key_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None]
    expires_at: Mapped[datetime] = mapped_column(index=True)


class ClientReport(Base):
    """A bad-client report ("Ugly Mugs", bot/store/alerts.py): what happened, when, where, the person,
    their vehicle and the account they used, each encrypted; the phone number they used only as a keyed
    hash (``phone_hash``, for lookups) and its last 3 digits. ``status``: draft (being written in the
    chat) -> pending (waiting for a moderator) -> approved (broadcast to the province's subscribers) or
    rejected. Nothing names the reporter: ``conversation_id`` only lets a moderator's question reach
    them through the bot (never shown), and ``reporter_hash`` (a keyed hash of their pseudonymous key)
    only counts how many reports one person sent. Deleted at ``expires_at`` (bot/store/retention.py).
    """

    __tablename__ = "client_reports"

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int | None] = mapped_column(
        ForeignKey("conversations.id", ondelete="SET NULL"), index=True
    )
    reporter_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    via: Mapped[str] = mapped_column(String(16))  # chat | phone (entered by a counsellor)
    status: Mapped[str] = mapped_column(String(16), index=True)
    severity: Mapped[str | None] = mapped_column(String(16))  # low | medium | high
    province: Mapped[str | None] = mapped_column(String(64), index=True)
    place_enc: Mapped[str | None] = mapped_column(Text)
    when_enc: Mapped[str | None] = mapped_column(Text)
    what_enc: Mapped[str | None] = mapped_column(Text)
    person_enc: Mapped[str | None] = mapped_column(Text)
    vehicle_enc: Mapped[str | None] = mapped_column(Text)
    account_enc: Mapped[str | None] = mapped_column(Text)
    # a moderator's questions through the bot and the reporter's answers, as encrypted JSON lines
    followup_enc: Mapped[str | None] = mapped_column(Text)
    phone_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    phone_last3: Mapped[str | None] = mapped_column(String(3))
    created_at: Mapped[datetime]
    submitted_at: Mapped[datetime | None]
    decided_at: Mapped[datetime | None]
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("staff_accounts.id", ondelete="SET NULL"))
    expires_at: Mapped[datetime] = mapped_column(index=True)
    alerts_queued: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class AlertSubscription(Base):
    """A person who asked for bad-client alerts of one province on a push channel (Telegram, Zalo,
    Messenger); deleted at once when they opt out or delete their data (with the conversation)."""

    __tablename__ = "alert_subscriptions"
    __table_args__ = (UniqueConstraint("conversation_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    province: Mapped[str] = mapped_column(String(64), index=True)
    discreet: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime]


class AlertCount(Base):
    """Statistics of bad-client alerts, by day: reports sent, approved, rejected, alerts sent, lookups,
    lookups that matched. Only counts: kept after reports expire and conversations are purged."""

    __tablename__ = "alert_counts"

    day: Mapped[str] = mapped_column(String(10), primary_key=True)  # YYYY-MM-DD, the service's time zone
    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)
