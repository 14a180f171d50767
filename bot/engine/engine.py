"""The conversation engine: one message in, replies out, in one database transaction.

1. de-duplicate by transport message id (webhooks are retried);
2. the safety check, on every message in every state: an emergency goes to the emergency flow;
3. a conversation a counsellor holds is relayed to the counsellor, nothing else;
4. otherwise the waiting flow node, a command, or the language model picks what comes next;
5. state, encrypted transcript, statistics and outbox events are written together.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from dataclasses import replace
from datetime import timedelta
from functools import lru_cache

from bot.content.flows import Node
from bot.engine.actions import ACTIONS
from bot.engine.clean import cleaned
from bot.engine.danger import ASK, keep_pending, note_possible
from bot.engine.deps import EngineDeps
from bot.engine.emoji import SOS, THANKS, emoji_meaning
from bot.engine.floods import admit_new_session, session_windows
from bot.engine.language import guess_locale
from bot.engine.places import locate_province
from bot.engine.safety import NONE, POSSIBLE
from bot.engine.steps import MAIN_MENU, answer_article, node_choices, run_from
from bot.engine.turn import Turn
from bot.errors import BadInput
from bot.messages import Choice, InboundMessage, Outcome, Reply
from bot.metrics import MESSAGES, SAFETY_REPLY_SECONDS, word
from bot.nlu import Understanding, normalize
from bot.nlu.emergency import LEXICON_SCORE
from bot.store import conversations as store
from bot.store.contacts import add_unique, current_contact
from bot.store.erasure import erase_conversation
from bot.store.escalations import current_escalation
from bot.store.models import ProcessedMessage
from bot.store.outbox import enqueue, queue_delivery
from bot.store.outbox_kinds import RELAY_TO_STAFF, RelayToStaffPayload
from bot.topics import TOPICS

log = logging.getLogger(__name__)

WELCOME = "welcome.start"
EMERGENCY = "emergency.start"
CHOOSE = "choose.pick"
PRIVACY = "privacy."  # the flow that deletes a person's data
KINDS = ("text", "choice", "start", "unsupported")
UNRECORDED = "[…]"  # the transcript line of a turn whose words are not kept (Turn.unrecorded)


KNOWN_PEOPLE = 4096
"""How many people :meth:`Engine.admit` remembers as having a conversation, so that their next messages
skip the database (a session and a transaction of their own for every web chat message when the
new-session caps are on, as they are by default). The most recently seen are kept."""


class Engine:
    """Channel-neutral conversation handling; channels call :meth:`handle`."""

    def __init__(self, deps: EngineDeps) -> None:
        self.deps = deps
        self._known: OrderedDict[tuple[str, str], None] = OrderedDict()
        self._command_words = {
            normalize(word): command.goto for command in deps.flows.commands for word in command.words
        }
        # Commands that lead to a question take its answer along ("kiểm tra số 0901 234 567"), longest first.
        self._asking_commands = sorted(
            (
                (words, goto)
                for words, goto in self._command_words.items()
                if words and (node := deps.flows.nodes.get(goto)) is not None and node.type == "ask"
            ),
            key=lambda item: len(item[0]),
            reverse=True,
        )

    def check(self, message: InboundMessage) -> None:
        """Refuse a message the engine cannot take, before anything is written."""
        if message.kind not in KINDS:
            raise BadInput(f"unknown message kind {message.kind!r}")
        if message.kind == "text" and (message.text is None or not message.text.strip()):
            raise BadInput("the message has no text")
        if message.text is not None and len(message.text) > self.deps.settings.max_text_chars:
            raise BadInput(f"the text is longer than {self.deps.settings.max_text_chars} characters")
        if message.kind == "choice" and not self.is_choice(message.choice or ""):
            raise BadInput("unknown choice id")

    def is_choice(self, choice_id: str) -> bool:
        if choice_id.startswith("a:"):
            return choice_id[2:] in self.deps.knowledge.articles
        node_ref, _, cid = choice_id.rpartition(":")
        node = self.deps.flows.nodes.get(node_ref)
        return node is not None and any(c.id == cid for c in node.choices)

    async def handle(self, message: InboundMessage) -> Outcome:
        """Handle one message; raises :class:`BadInput` (and writes nothing) when it is refused."""
        started = time.monotonic()
        message = cleaned(message)  # before anything reads it: broken characters must not lose a message
        self.check(message)
        deps = self.deps
        understanding = None
        if message.kind == "text" and message.text is not None:
            understanding = await deps.nlu.understand(message.text)
        now = deps.clock.now()
        crypto = deps.crypto
        user_key = crypto.user_key(message.channel, message.user_id)
        # Until the person picks a language, follow the one they write in (a new conversation starts in it)
        guessed = guess_locale(message.text) if message.text and not message.locale else None
        # One transaction: begun by the first statement (SQLAlchemy's autobegin; BEGIN IMMEDIATE on SQLite),
        # committed by store.finish_message with the message's last writes (one switch into SQLAlchemy's
        # greenlet, where session.begin() took two more); left without a commit (a duplicate, an error), it
        # is rolled back when the session closes.
        async with deps.sessionmaker() as session:
            ref = None
            if message.transport_id is not None:
                ref = crypto.ref_hash(message.channel, message.transport_id)
            # the transport id claimed, then the conversation read (or made)
            opened = await store.open_message(
                session,
                channel=message.channel,
                user_key=user_key,
                ref_hash=ref,
                now=now,
                locale=message.locale or guessed or deps.settings.default_locale,
            )
            if isinstance(opened, ProcessedMessage):  # seen before: the same replies again
                replies = crypto.decrypt_json(opened.replies_enc) if opened.replies_enc else []
                known = await store.find(session, channel=message.channel, user_key=user_key)
                return Outcome(
                    tuple(Reply.from_json(r) for r in replies),
                    duplicate=True,
                    locale=known.locale if known is not None else None,
                )
            conversation, contact, created = opened
            if message.address is not None:
                conversation.address_enc = crypto.encrypt(message.address)
            if message.locale and not conversation.locale_chosen:
                conversation.locale = message.locale
            elif message.text and not conversation.locale_chosen:
                conversation.locale = guessed or conversation.locale
            contact = await current_contact(
                session,
                conversation,
                now=now,
                stats_key=lambda: crypto.stats_key(user_key),  # for a new contact only
                gap=timedelta(minutes=deps.settings.session_gap_minutes),
                session_ref=(
                    crypto.ref_hash(message.channel, message.session_id) if message.session_id else None
                ),
                loaded=contact,
            )
            contact.message_count += 1
            contact.ended_at = now
            contact.locale = conversation.locale
            conversation.last_seen_at = now
            turn = Turn(session, deps, conversation, contact, message, now, understanding)
            await self._route(turn, created)
            conversation_id = None if turn.deleted else conversation.id
            replies = tuple(turn.replies)
            # (a deleted conversation keeps no transcript, not even this: finish_message writes none)
            lines = [("in", self._transcript_line(message)), *(("out", r.text) for r in replies)]
            if turn.unrecorded:  # a number checked, a report's details: not kept with the person
                lines = [("in", UNRECORDED)]
            if message.channel in deps.push_channels and replies:
                address = message.address or (
                    crypto.decrypt(conversation.address_enc) if conversation.address_enc else None
                )
                if address is not None:
                    await queue_delivery(
                        session,
                        crypto,
                        channel=message.channel,
                        user_key=user_key,
                        conversation_id=conversation_id,
                        address=address,
                        replies=replies,
                        now=now,
                        emergency=turn.emergency,
                        erase_when_done=turn.deleted,  # the "deleted" confirmation: gone once sent
                    )
            # The transcript lines, and the replies kept for the transport id's retries (they go with
            # the conversation when the person deletes it), in one go
            await store.finish_message(
                session,
                crypto,
                conversation_id=conversation_id,
                lines=lines,
                now=now,
                replies=(
                    None
                    if ref is None
                    else (message.channel, ref, crypto.encrypt_json([r.to_json() for r in replies]))
                ),
                commit=True,
            )
        if deps.after_commit is not None:
            deps.after_commit()
        MESSAGES.labels(channel=word(message.channel)).inc()
        if turn.emergency and replies and message.channel not in deps.push_channels:
            # Answered in this request (web chat, phone): the safety reply is out when this returns.
            SAFETY_REPLY_SECONDS.observe(time.monotonic() - started)
        return Outcome(
            replies,
            conversation_id=conversation_id,
            emergency=turn.emergency,
            locale=None if conversation_id is None else conversation.locale,
        )

    async def locale_of(self, channel: str, user_id: str) -> str | None:
        """The language of a person's conversation on a channel, or None when they have none."""
        user_key = self.deps.crypto.user_key(channel, user_id)
        async with self.deps.sessionmaker() as session:
            conversation = await store.find(session, channel=channel, user_key=user_key)
        return conversation.locale if conversation is not None else None

    async def danger_level(self, text: str) -> str:
        """The safety check's level for words: "emergency", "possible" or "none" (as :meth:`handle` runs it).

        A verdict without a ``level`` (a check from before the three levels) has two of them.
        """
        verdict = self.deps.safety.check(await self.deps.nlu.understand(text))
        return str(getattr(verdict, "level", "emergency" if verdict.emergency else "none"))

    async def admit(self, message: InboundMessage) -> bool:
        """Whether a message may be handled under the new-session caps (:mod:`bot.engine.floods`): a
        message that would open a new conversation counts against its client's cap; nothing is written
        when it is over."""
        deps = self.deps
        if message.client_key is None or not session_windows(deps.settings):
            return True
        user_key = deps.crypto.user_key(message.channel, message.user_id)
        known = (message.channel, user_key)
        if known in self._known:
            # A person already admitted goes on. If their conversation was erased since, the message
            # that opens a new one is not counted against the cap: one message, never a flood.
            self._known.move_to_end(known)
            return True
        async with deps.sessionmaker() as session, session.begin():
            admitted = await store.find(session, channel=message.channel, user_key=user_key) is not None
            if not admitted:
                admitted = await admit_new_session(
                    session,
                    deps.crypto,
                    deps.settings,
                    channel=message.channel,
                    client=message.client_key,
                    now=deps.clock.now(),
                )
        if admitted:
            self._known[known] = None
            if len(self._known) > KNOWN_PEOPLE:
                self._known.popitem(last=False)
        return admitted

    async def forget(self, channel: str, user_id: str) -> bool:
        """Delete everything kept about a person who asked for it outside the conversation (Zalo's
        ``user_withdraw``), as "delete my data" does (:mod:`bot.store.erasure`, the channel's forget
        hook), in one transaction and without a reply. False when nothing was kept about them."""
        deps = self.deps
        now = deps.clock.now()
        user_key = deps.crypto.user_key(channel, user_id)
        async with deps.sessionmaker() as session, session.begin():
            conversation = await store.find(session, channel=channel, user_key=user_key)
            if conversation is None:
                return False
            hook = deps.forget_hooks.get(channel)
            if hook is not None:
                await hook(session, conversation, now)
            await erase_conversation(session, deps.crypto, conversation, now=now)
        if deps.after_commit is not None:
            deps.after_commit()
        return True

    def _transcript_line(self, message: InboundMessage) -> str:
        if message.kind == "choice" and message.choice:
            return f"[{message.choice}]"
        if message.kind in ("start", "unsupported"):
            return f"[{message.kind}]"
        return message.text or ""

    async def _route(self, turn: Turn, created: bool) -> None:
        message = turn.message
        understanding = turn.understanding
        if understanding is not None:  # even without words: "🆘" is a cry for help
            verdict = self.deps.safety.check(understanding)
            if verdict.danger_level == NONE and emoji_meaning(message.text or "") == SOS:
                verdict = replace(verdict, level=POSSIBLE)  # 🆘 alone: at least "are you in danger?"
            asked = turn.conversation.node == ASK
            if (
                verdict.emergency
                and verdict.score < LEXICON_SCORE
                and turn.conversation.held_by is None
                and self._asked_for_note(turn)
            ):
                # An account the person was asked for (what a bad client did, a check-in's "where I am")
                # that only the classifier reads as danger ("đòi không dùng bao, rồi đánh và lấy tiền"):
                # the note is taken and the console lists a possible risk. A danger phrase or a cry for
                # help (the lexicon's score), or a classifier as sure, still goes to the emergency flow.
                note_possible(turn, verdict.kind)
                verdict = replace(verdict, emergency=False, level=POSSIBLE)
            if verdict.emergency or (asked and verdict.danger_level == POSSIBLE):
                # Asked "are you in danger right now?" and answered with more signs of harm: that is a yes.
                about_other = self.deps.bystander.about_other(understanding.normalized)
                risk = verdict.kind or turn.context_get("possible_kind")
                turn.context_set(risk=risk, about_other=about_other or None)
                if turn.conversation.held_by is not None:
                    await self._relay(turn, urgent=True)
                    return
                await run_from(turn, EMERGENCY)
                return
            if (
                verdict.danger_level == POSSIBLE
                # a button's label is our own words, never a sign of harm, even when the classifier
                # finds one in it ("read more" scored as a possible suicide)
                and self._typed_choice(turn, understanding.normalized) is None
                # a note the person was asked for ("guesthouse room 12, black motorbike") is not a question
                and not self._asked_for_note(turn)
                and turn.conversation.held_by is None
                and await current_escalation(turn.session, turn.conversation) is None
            ):
                if self._answering(turn):
                    # the answer to the bot's own question ("bao lâu rồi?" "3 tiếng trước"; a check-in's
                    # "1 tiếng"): the flow goes on, and the console lists the possible risk
                    note_possible(turn, verdict.kind)
                else:
                    keep_pending(turn, understanding, verdict.kind)
                    await run_from(turn, ASK)
                    return
        if turn.conversation.held_by is not None and message.kind in ("text", "unsupported"):
            # "xóa", "thoát nhanh": deleting one's data works while a counsellor holds the conversation too
            # (the emergency replies promise it); anything else goes to the counsellor.
            privacy = self._command_words.get(understanding.normalized) if understanding else None
            if privacy is not None and privacy.startswith(PRIVACY):
                await run_from(turn, privacy)
                return
            await self._relay(turn, urgent=False)
            return
        if message.kind == "start":
            await run_from(turn, WELCOME)
        elif message.kind == "unsupported":
            turn.say(turn.string("unsupported"))
        elif message.kind == "choice":
            await self._choose(turn, message.choice or "")
        elif understanding is not None:
            if created:
                turn.say(turn.string("welcome_short"))
            await self._text(turn, understanding)

    async def _relay(self, turn: Turn, *, urgent: bool) -> None:
        """Pass the person's message to the counsellor who holds the conversation."""
        escalation = await current_escalation(turn.session, turn.conversation)
        payload: RelayToStaffPayload = {
            "escalation_id": escalation.id if escalation else None,
            "counsellor_id": turn.conversation.held_by,
            "text": turn.message.text or turn.string("unsupported_relayed"),
            "urgent": urgent,
        }
        await enqueue(
            turn.session,
            turn.deps.crypto,
            kind=RELAY_TO_STAFF,
            payload=payload,
            now=turn.now,
            conversation_id=turn.conversation.id,
            escalation_id=escalation.id if escalation else None,
            ordering_key=f"staff:{turn.conversation.id}",
        )

    def _question(self, turn: Turn) -> Node | None:
        """The ``ask`` node the conversation waits at (a flow's question), if any."""
        node = self.deps.flows.nodes.get(turn.conversation.node or "")
        return node if node is not None and node.type == "ask" else None

    def _answering(self, turn: Turn) -> bool:
        """Whether the conversation waits for the answer to a question of a flow (not "are you in danger
        right now?" itself): a short answer there ("3 tiếng trước", "1 tiếng") is read as the answer."""
        return self._question(turn) is not None and turn.conversation.node != ASK

    def _asked_for_note(self, turn: Turn) -> bool:
        """Whether the conversation waits at a node whose action takes a note (a check-in's)."""
        node = self._question(turn)
        found = ACTIONS.get(node.action or "") if node is not None else None
        return found is not None and found.takes_note

    def _command_with_answer(self, norm: str) -> tuple[str, str] | None:
        """A command that leads to a question, followed by its answer ("kiem tra so 0901 234 567"): the
        question's node and the answer. Only then: a number typed alone is never taken for one."""
        for words, goto in self._asking_commands:
            if norm.startswith(words + " ") and norm[len(words) :].strip():
                return goto, norm[len(words) :].strip()
        return None

    def _typed_choice(self, turn: Turn, norm: str) -> Choice | None:
        """The choice on screen the text names, typed ("Read more", "3"), if any."""
        node = self.deps.flows.nodes.get(turn.conversation.node or "")
        if node is None or not norm:
            return None
        choices = node_choices(turn, node)
        if norm.isdigit():
            return choices[int(norm) - 1] if 1 <= int(norm) <= len(choices) else None
        return next((c for c in choices if _normalized_label(c.label) == norm), None)

    async def _choose(self, turn: Turn, choice_id: str) -> None:
        if choice_id.startswith("a:"):
            await answer_article(turn, choice_id[2:])
            return
        node_ref, _, cid = choice_id.rpartition(":")
        node = self.deps.flows.nodes[node_ref]
        choice = next(c for c in node.choices if c.id == cid)
        await run_from(turn, choice.goto)

    async def _text(self, turn: Turn, understanding: Understanding) -> None:
        if not understanding.has_words:
            await self._emoji_only(turn)
            return
        norm = understanding.normalized
        command = self._command_words.get(norm)
        if command is not None:
            await run_from(turn, command)
            return
        picked = self._typed_choice(turn, norm)
        if picked is not None:
            await self._choose(turn, picked.id)
            return
        asked = self._command_with_answer(norm)
        if asked is not None:
            node_ref, answer = asked
            question = self.deps.flows.nodes[node_ref]
            said = len(turn.replies)
            outcome = await ACTIONS[question.action or ""].run(turn, question.params, answer)
            if outcome != "unknown":
                await run_from(turn, question.branches.get(outcome or "", question.next))
                return
            # No answer in it ("kiểm tra số lần uống thuốc"): a message like any other.
            del turn.replies[said:]
            turn.unrecorded = False
        node = self.deps.flows.nodes.get(turn.conversation.node or "")
        if node is not None:
            if node.type == "ask" and node.action:
                said = len(turn.replies)
                outcome = await ACTIONS[node.action].run(turn, node.params, turn.message.text)
                if outcome != "unknown":
                    await run_from(turn, node.branches.get(outcome or "", node.next))
                    return
                if not understanding.articles:
                    await run_from(turn, node.ref)
                    return
                # Not an answer to the question but a new question: answer that, without the
                # "I did not understand the time/province" the action would have said.
                del turn.replies[said:]
                turn.unrecorded = False
            elif node.free_text:
                await run_from(turn, node.free_text)
                return
        await self._free_text(turn, understanding)

    async def _free_text(self, turn: Turn, understanding: Understanding) -> None:
        """A question in the person's own words: find the article, or the closest topic."""
        text = turn.message.text or ""
        # the message's words normalised by the language model already (Understanding.normalized)
        normalized = understanding.normalized if understanding.text == text else None
        province, rest = locate_province(text, self.deps.knowledge, normalized)
        if province is not None:
            turn.context_set(province=province.name)
            turn.contact.province = province.name
            if not understanding.confident and rest:
                # A place name the model never saw can drown the question: ask again without it.
                again = await self.deps.nlu.understand(rest)
                if again.articles and (again.confident or not understanding.articles):
                    understanding = again
        if understanding.topic in TOPICS:
            add_unique(turn.contact, "topics", understanding.topic)
        if understanding.articles and understanding.confident:
            await answer_article(turn, understanding.articles[0][0])
            return
        if understanding.articles:
            turn.context_set(candidates=[article_id for article_id, _ in understanding.articles])
            await run_from(turn, CHOOSE)
            return
        if understanding.topic in TOPICS:
            turn.say(turn.string("topic_guess"))
            await run_from(turn, f"topics.{understanding.topic}")
            return
        turn.say(turn.string("not_understood"))
        await run_from(turn, MAIN_MENU)

    async def _emoji_only(self, turn: Turn) -> None:
        """No words, only emoji or signs (a danger in them was read by the safety check already): a
        thumbs-up or a thank-you gets a kind answer and the menu; anything else, a prompt to type a few
        words or pick an option. Asked "are you in danger right now?", even 👍 is no answer: asked again."""
        if emoji_meaning(turn.message.text or "") == THANKS and turn.conversation.node != ASK:
            turn.say(turn.string("emoji_thanks"))
            await run_from(turn, MAIN_MENU)
            return
        turn.say(turn.string("no_words"))
        await self._reprompt(turn)

    async def _reprompt(self, turn: Turn) -> None:
        node = self.deps.flows.nodes.get(turn.conversation.node or "")
        await run_from(turn, node.ref if node is not None else MAIN_MENU)


@lru_cache(maxsize=4096)
def _normalized_label(label: str) -> str:
    """A choice's label as typed text compares (labels are the content's own words: a bounded set)."""
    return normalize(label)
