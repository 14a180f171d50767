"""One turn of a conversation: everything a step or an action may read or change."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from bot.content.fields import LocalText
from bot.messages import Choice, InboundMessage, Reply
from bot.store.contacts import current_contact
from bot.store.models import Contact, Conversation

if TYPE_CHECKING:
    from bot.engine.deps import EngineDeps
    from bot.nlu import Understanding


class _Keep(dict[str, object]):
    """Leaves unknown ``{placeholders}`` as they are instead of failing."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


@dataclass
class Turn:
    """The state of one message being handled, inside its database transaction."""

    session: AsyncSession
    deps: EngineDeps
    conversation: Conversation
    contact: Contact
    message: InboundMessage
    now: datetime
    understanding: Understanding | None = None
    replies: list[Reply] = field(default_factory=list)
    deleted: bool = False
    emergency: bool = False
    # The turn's words stay out of the transcript (a number checked, the details of a bad-client report,
    # kept encrypted in their own row): the transcript gets a placeholder line instead.
    unrecorded: bool = False
    # More ``{placeholders}`` for this turn's texts (an alert's details)
    extra: dict[str, object] = field(default_factory=dict)

    @property
    def locale(self) -> str:
        return self.conversation.locale

    def values(self, **extra: object) -> _Keep:
        """What ``{placeholders}`` in a text may name: the retention period, the running check-in's
        clock time (``{checkin_time}``), and ``extra``."""
        known: dict[str, object] = {"retention_days": self.deps.settings.retention_days}
        checkin_time = self.context_get("checkin_time")
        if checkin_time:
            known["checkin_time"] = checkin_time
        return _Keep(known | self.extra | extra)

    def text(self, text: LocalText, **values: object) -> str:
        said = text.get(self.locale)
        if "{" not in said and "}" not in said:  # nothing to fill in: format_map would give it back as it is
            return said
        return said.format_map(self.values(**values))

    def string(self, key: str, **values: object) -> str:
        return self.text(self.deps.flows.strings[key], **values)

    def say(self, text: str, choices: tuple[Choice, ...] = (), voice: str | None = None, *tags: str) -> None:
        self.replies.append(Reply(text=text, choices=choices, voice_text=voice, tags=tags))

    def context_set(self, **values: object) -> None:
        """Update the conversation's context (a new dict, so SQLAlchemy sees the change)."""
        context = dict(self.conversation.context or {})
        for key, value in values.items():
            if value is None:
                context.pop(key, None)
            else:
                context[key] = value
        self.conversation.context = context

    def context_get(self, key: str) -> object:
        return (self.conversation.context or {}).get(key)


async def unprompted_turn(
    session: AsyncSession, deps: EngineDeps, conversation: Conversation, now: datetime
) -> Turn:
    """A turn the service starts by itself, with no message from the person (a check-in's timer, an
    alert): in the person's current contact, as the engine would count it."""
    contact = await current_contact(
        session,
        conversation,
        now=now,
        stats_key=lambda: deps.crypto.stats_key(conversation.user_key),
        gap=timedelta(minutes=deps.settings.session_gap_minutes),
    )
    message = InboundMessage(channel=conversation.channel, user_id="", kind="start")
    return Turn(session, deps, conversation, contact, message, now)
