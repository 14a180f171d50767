"""What the engine takes in and gives back: channel-neutral, no transport details."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class InboundMessage:
    """One message from a person, as any channel hands it to the engine.

    ``user_id`` is the platform's id for the person (chat id, phone number, web session); the engine
    turns it into a pseudonymous key at once and keeps only that. ``session_id`` (a call's id) makes
    each call its own contact in the statistics; chats are split into contacts by pauses. ``address`` is what the channel
    needs to reply later (often the same as ``user_id``); it is stored encrypted. ``client_key`` is who
    the flood caps count against when that is not the person's own key (the web chat: a keyed hash of
    the network address, since every new session is a new ``user_id``); never an address in clear.
    """

    channel: str
    user_id: str
    text: str | None = None
    choice: str | None = None
    transport_id: str | None = None
    locale: str | None = None
    address: str | None = None
    kind: str = "text"  # text | choice | unsupported | start
    session_id: str | None = None  # a transport session (a phone call): a new one starts a new contact
    client_key: str | None = None  # bot/engine/floods.py; None: the person's pseudonymous key


@dataclass(frozen=True)
class Choice:
    """A button / menu option: ``id`` comes back as ``InboundMessage.choice`` when chosen."""

    id: str
    label: str


# A ``Reply.tags`` value: written by a counsellor, not by the bot (Messenger may send only these with
# Meta's HUMAN_AGENT tag after its 24-hour window).
BY_COUNSELLOR = "counsellor"


@dataclass(frozen=True)
class Reply:
    """One message to the person. ``voice_text`` is the short spoken version, for the phone."""

    text: str
    choices: tuple[Choice, ...] = ()
    voice_text: str | None = None
    tags: tuple[str, ...] = field(default=())

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "text": self.text,
            "choices": [{"id": c.id, "label": c.label} for c in self.choices],
        }
        if self.voice_text:
            data["voice_text"] = self.voice_text
        if self.tags:
            data["tags"] = list(self.tags)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Reply:
        return cls(
            text=data["text"],
            choices=tuple(Choice(c["id"], c["label"]) for c in data.get("choices", [])),
            voice_text=data.get("voice_text"),
            tags=tuple(data.get("tags", ())),
        )


@dataclass(frozen=True)
class Outcome:
    """What ``Engine.handle`` did: the replies, and whether it was a retried duplicate."""

    replies: tuple[Reply, ...]
    duplicate: bool = False
    conversation_id: int | None = None
    emergency: bool = False
    # The conversation's language after this message (None when there is no conversation: deleted).
    locale: str | None = None
