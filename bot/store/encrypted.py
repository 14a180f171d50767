"""Every place the database keeps encrypted data, in one list.

``hotline rotate-key encryption`` (:mod:`bot.store.rotation`) re-encrypts exactly what is listed here, and
then stops reading the old key: anything encrypted elsewhere would become unreadable. A new encrypted
column ends in ``_enc`` and is added here; ``tests/store/test_keys.py`` fails when a model's ``_enc``
column is missing, or when any Fernet token is found in the database outside these places.
"""

from __future__ import annotations

from bot.store.models import (
    Base,
    Checkin,
    ClientReport,
    Conversation,
    Counsellor,
    DeskNote,
    Escalation,
    Message,
    OutboxEvent,
    ProcessedMessage,
    StoredSecret,
)

# The Telegram message ids shown in a person's chat (bot/channels/telegram/shown.py), kept encrypted in
# the conversation's context.
TELEGRAM_SHOWN = "telegram_shown"

ENCRYPTED_COLUMNS: tuple[tuple[type[Base], str], ...] = (
    (Conversation, "address_enc"),
    (Message, "body_enc"),
    (Message, "transport_ref_enc"),
    (ProcessedMessage, "replies_enc"),
    (OutboxEvent, "payload_enc"),
    (Counsellor, "telegram_chat_enc"),
    (Counsellor, "phone_enc"),
    (Escalation, "callback_phone_enc"),
    (StoredSecret, "value_enc"),
    (Checkin, "note_enc"),
    (Checkin, "callee_enc"),
    *(
        (ClientReport, f"{name}_enc")
        for name in ("place", "when", "what", "person", "vehicle", "account", "followup")
    ),
    (DeskNote, "text_enc"),
)
"""Text columns (model, attribute) holding one Fernet token each, or NULL."""

ENCRYPTED_IN_JSON: tuple[tuple[type[Base], str, str], ...] = ((Conversation, "context", TELEGRAM_SHOWN),)
"""JSON columns (model, attribute, key) holding a Fernet token under a key."""
