"""A fake Telegram Bot API server on loopback, for tests that run the real aiogram client against it.

It is a small real HTTP server on loopback that answers the Bot API
methods the hotline uses (``getMe``, ``sendMessage``, ``editMessageText``, ``editMessageReplyMarkup``,
``answerCallbackQuery``, ``deleteMessage(s)``, ``getUpdates``, ``setWebhook``, ``deleteWebhook``,
``getWebhookInfo``, ``sendChatAction``, ``setMyCommands``), records every call, and can be told to fail:
``fail_next("sendMessage", status=429, retry_after=7)`` answers the next call like Telegram's flood
control, ``block(chat_id)`` answers 403 as when a person blocked the bot.

It also builds updates as Telegram would send them (``text_update``, ``callback_update``, ...), with
message ids counted per chat like Telegram's (one sequence for both sides of a private chat), and
queues them for ``getUpdates`` (long polling) with ``queue``.

It is a :class:`tests.fakes.base.FakeServer`: one lifecycle (``with`` or ``async with``), every call
recorded in ``calls``, ``fail(method, ...)`` besides the Telegram-shaped ``fail_next``::

    async with FakeTelegram() as telegram:
        bot = Bot(telegram.token, session=AiohttpSession(api=TelegramAPIServer.from_base(telegram.url)))
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
from typing import Any

from aiohttp import web

from tests.fakes.base import Call as BaseCall
from tests.fakes.base import FakeServer

DEFAULT_TOKEN = "424242:AAtest-fake-token_0123456789"
BOT_USER = {"id": 424242, "is_bot": True, "first_name": "Hotline", "username": "hotline_test_bot"}
# Form fields aiogram sends JSON-encoded; everything else stays the string it was sent as.
_JSON_FIELDS = frozenset(
    {"reply_markup", "message_ids", "allowed_updates", "commands", "link_preview_options"}
)
_DESCRIPTIONS = {
    400: "Bad Request: message can't be deleted",
    403: "Forbidden: bot was blocked by the user",
    500: "Internal Server Error",
}


def _error(status: int, description: str, retry_after: int | None = None) -> dict[str, Any]:
    """The Bot API's error body; a 429 carries ``parameters.retry_after`` as Telegram's flood control does."""
    body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
    if retry_after is not None:
        body["parameters"] = {"retry_after": retry_after}
    return body


class Call(BaseCall):
    """One Bot API call the fake received: its ``method``, its ``params`` and the status it answered."""

    @property
    def method(self) -> str:
        return self.name

    @property
    def chat_id(self) -> str | None:
        value = self.params.get("chat_id")
        return None if value is None else str(value)

    @property
    def buttons(self) -> list[dict[str, str]]:
        """The inline keyboard's buttons, row after row (``text`` and ``callback_data``)."""
        markup = self.params.get("reply_markup") or {}
        return [button for row in markup.get("inline_keyboard", []) for button in row]


class FakeTelegram(FakeServer):
    """The fake server. ``url`` is the base to give aiogram's ``TelegramAPIServer.from_base``."""

    calls: list[Call]  # type: ignore[assignment]  # describe() records Telegram's own Call

    def __init__(self, token: str = DEFAULT_TOKEN, *, max_poll_wait: float = 1.0) -> None:
        super().__init__()
        self.token = token
        self.max_poll_wait = max_poll_wait
        self.webhook: dict[str, Any] = {}
        # What getWebhookInfo reports besides the URL, as Telegram does after failed deliveries, e.g.
        # {"last_error_date": 1767580000, "last_error_message": "Wrong response from the webhook: 403"}
        self.webhook_status: dict[str, Any] = {}
        self._blocked: set[str] = set()
        self._message_ids: dict[str, itertools.count[int]] = {}
        self._update_ids = itertools.count(500_001)
        self._callback_ids = itertools.count(9_000_001)
        self._updates: list[dict[str, Any]] = []
        self._new_updates = asyncio.Event()

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/bot{token}/{method}", self._handle)
        app.router.add_get("/bot{token}/{method}", self._handle)

    def name_of(self, request: web.Request) -> str:
        return request.match_info.get("method", request.path)

    def error_body(self, status: int) -> dict[str, Any]:
        return {"ok": False, "error_code": status, "description": _DESCRIPTIONS.get(status, "Error")}

    def stopping(self) -> None:
        self.call_soon(self._new_updates.set)  # a long poll under way ends now, not at its timeout

    # ---------------------------------------------------------------- what tests ask for

    def fail_next(
        self,
        method: str,
        *,
        status: int = 429,
        retry_after: int | None = None,
        description: str | None = None,
        times: int = 1,
        after: int = 0,
    ) -> None:
        """Answer ``times`` calls of ``method`` with an error, once ``after`` more have succeeded.

        A 429 carries ``retry_after`` (default 5 seconds), as Telegram's flood control does.
        """
        if status == 429 and retry_after is None:
            retry_after = 5
        default = _DESCRIPTIONS.get(status, "Error")
        if status == 429:
            default = f"Too Many Requests: retry after {retry_after}"
        body = _error(status, description or default, retry_after)
        self.fail(method, status=status, body=body, times=times, after=after)

    def block(self, chat_id: int | str) -> None:
        """From now on, sending to this chat answers 403 (the person blocked the bot)."""
        self._blocked.add(str(chat_id))

    def calls_of(self, method: str, *, ok_only: bool = True) -> list[Call]:
        return [c for c in super().calls_of(method, ok_only=ok_only) if isinstance(c, Call)]

    def sent(self, chat_id: int | str | None = None) -> list[Call]:
        """Successful ``sendMessage`` calls (to one chat, if given), oldest first."""
        return [c for c in self.calls_of("sendMessage") if chat_id is None or c.chat_id == str(chat_id)]

    def deleted(self, chat_id: int | str) -> list[int]:
        """Every message id deleted in a chat, by ``deleteMessage`` or ``deleteMessages``."""
        ids: list[int] = []
        for call in self.calls:
            if call.status != 200 or call.chat_id != str(chat_id):
                continue
            if call.method == "deleteMessages":
                ids.extend(int(i) for i in call.params["message_ids"])
            elif call.method == "deleteMessage":
                ids.append(int(call.params["message_id"]))
        return ids

    # ---------------------------------------------------------------- updates, as Telegram builds them

    def next_message_id(self, chat_id: int | str) -> int:
        counter = self._message_ids.setdefault(str(chat_id), itertools.count(1))
        return next(counter)

    def _user(self, user_id: int, first_name: str, username: str | None) -> dict[str, Any]:
        user: dict[str, Any] = {
            "id": user_id,
            "is_bot": False,
            "first_name": first_name,
            "language_code": "vi",
        }
        if username:
            user["username"] = username
        return user

    def _chat(self, chat_id: int, chat_type: str, first_name: str, username: str | None) -> dict[str, Any]:
        chat: dict[str, Any] = {"id": chat_id, "type": chat_type}
        if chat_type == "private":
            chat["first_name"] = first_name
            if username:
                chat["username"] = username
        else:
            chat["title"] = "A group"
        return chat

    def message(
        self,
        chat_id: int,
        *,
        text: str | None = None,
        chat_type: str = "private",
        from_id: int | None = None,
        first_name: str = "Lan",
        username: str | None = None,
        **content: Any,
    ) -> dict[str, Any]:
        """A Message object from a person (``content`` adds e.g. ``sticker={...}`` or ``caption=``)."""
        message: dict[str, Any] = {
            "message_id": self.next_message_id(chat_id),
            "date": 1_767_580_000,
            "chat": self._chat(chat_id, chat_type, first_name, username),
            "from": self._user(from_id or chat_id, first_name, username),
        }
        if text is not None:
            message["text"] = text
            if text.startswith("/"):
                message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
        message.update(content)
        return message

    def update(self, **event: Any) -> dict[str, Any]:
        """An Update with a fresh ``update_id`` around one event (``message=...``, ``edited_message=...``)."""
        return {"update_id": next(self._update_ids), **event}

    def text_update(self, chat_id: int, text: str, **kwargs: Any) -> dict[str, Any]:
        return self.update(message=self.message(chat_id, text=text, **kwargs))

    def sticker_update(self, chat_id: int, **kwargs: Any) -> dict[str, Any]:
        sticker = {
            "file_id": "CAACAgIAAx0",
            "file_unique_id": "AgADsticker",
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
        }
        return self.update(message=self.message(chat_id, sticker=sticker, **kwargs))

    def photo_update(self, chat_id: int, caption: str | None = None, **kwargs: Any) -> dict[str, Any]:
        photo = [{"file_id": "AgACphoto", "file_unique_id": "AQADphoto", "width": 90, "height": 90}]
        extra: dict[str, Any] = {"photo": photo}
        if caption is not None:
            extra["caption"] = caption
        return self.update(message=self.message(chat_id, **extra, **kwargs))

    def voice_update(self, chat_id: int, **kwargs: Any) -> dict[str, Any]:
        voice = {"file_id": "AwACvoice", "file_unique_id": "AgADvoice", "duration": 3}
        return self.update(message=self.message(chat_id, voice=voice, **kwargs))

    def edited_update(self, chat_id: int, text: str, message_id: int = 1) -> dict[str, Any]:
        message = self.message(chat_id, text=text)
        message["message_id"] = message_id
        message["edit_date"] = 1_767_580_100
        return self.update(edited_message=message)

    def callback_update(
        self,
        chat_id: int,
        data: str,
        *,
        message_id: int,
        first_name: str = "Lan",
        username: str | None = None,
        chat_type: str = "private",
        from_id: int | None = None,
    ) -> dict[str, Any]:
        """A tap on an inline button of the bot's message ``message_id`` in ``chat_id`` (by ``from_id``)."""
        message = {
            "message_id": message_id,
            "date": 1_767_580_000,
            "chat": self._chat(chat_id, chat_type, first_name, username),
            "from": BOT_USER,
            "text": "…",
        }
        query = {
            "id": str(next(self._callback_ids)),
            "from": self._user(from_id or chat_id, first_name, username),
            "chat_instance": "-7000000000000000001",
            "message": message,
            "data": data,
        }
        return self.update(callback_query=query)

    def tap(self, chat_id: int, label_part: str, **kwargs: Any) -> dict[str, Any]:
        """A tap on the newest button (in the bot's messages to ``chat_id``) whose label contains ``label_part``."""
        for call, result_id in reversed(self._sent_with_ids(chat_id)):
            for button in call.buttons:
                if label_part.lower() in button["text"].lower():
                    return self.callback_update(
                        chat_id, button["callback_data"], message_id=result_id, **kwargs
                    )
        raise AssertionError(f"no button like {label_part!r} was sent to the chat")

    def _sent_with_ids(self, chat_id: int) -> list[tuple[Call, int]]:
        return [(c, int(c.params["_message_id"])) for c in self.sent(chat_id)]

    def queue(self, *updates: dict[str, Any]) -> None:
        """Make updates available to ``getUpdates`` (long polling)."""
        self._updates.extend(updates)
        self.call_soon(self._new_updates.set)

    # ---------------------------------------------------------------- the HTTP side

    async def describe(self, request: web.Request) -> Call:
        params: dict[str, Any] = {}
        if request.content_type == "application/json":
            data = await request.json()
            params = dict(data) if isinstance(data, dict) else {}
        else:
            form = await request.post()
            for key, value in form.items():
                if isinstance(value, str):
                    params[key] = json.loads(value) if key in _JSON_FIELDS else value
            params.update(request.query)
        headers = {key.lower(): value for key, value in request.headers.items()}
        return Call(name=self.name_of(request), path=request.path, headers=headers, params=params)

    async def _handle(self, request: web.Request) -> web.Response:
        call = self.call_of(request)
        assert isinstance(call, Call)
        if request.match_info["token"] != self.token:
            return self.refuse(call, 401, _error(401, "Unauthorized"))
        if call.chat_id is not None and call.chat_id in self._blocked:
            return self.refuse(call, 403, _error(403, _DESCRIPTIONS[403]))
        answer = getattr(self, f"_m_{call.method}", None)
        if answer is None:
            return self.refuse(call, 404, _error(404, "Not Found: method not found"))
        result = await answer(call)
        return web.json_response({"ok": True, "result": result})

    def _message_result(self, call: Call, message_id: int) -> dict[str, Any]:
        chat_id = int(call.params["chat_id"])
        result: dict[str, Any] = {
            "message_id": message_id,
            "date": 1_767_580_000,
            "chat": {"id": chat_id, "type": "private" if chat_id > 0 else "supergroup"},
            "from": BOT_USER,
            "text": call.params.get("text", ""),
        }
        if "reply_markup" in call.params:
            result["reply_markup"] = call.params["reply_markup"]
        return result

    async def _m_getMe(self, call: Call) -> Any:
        return {**BOT_USER, "can_join_groups": True, "can_read_all_group_messages": False}

    async def _m_sendMessage(self, call: Call) -> Any:
        message_id = self.next_message_id(call.params["chat_id"])
        call.params["_message_id"] = message_id
        return self._message_result(call, message_id)

    async def _m_editMessageText(self, call: Call) -> Any:
        return self._message_result(call, int(call.params["message_id"]))

    async def _m_editMessageReplyMarkup(self, call: Call) -> Any:
        return self._message_result(call, int(call.params["message_id"]))

    async def _m_answerCallbackQuery(self, call: Call) -> Any:
        return True

    async def _m_deleteMessage(self, call: Call) -> Any:
        return True

    async def _m_deleteMessages(self, call: Call) -> Any:
        return True

    async def _m_sendChatAction(self, call: Call) -> Any:
        return True

    async def _m_setMyCommands(self, call: Call) -> Any:
        return True

    async def _m_setWebhook(self, call: Call) -> Any:
        self.webhook = {
            "url": call.params.get("url", ""),
            "secret_token": call.params.get("secret_token"),
            "allowed_updates": call.params.get("allowed_updates"),
        }
        return True

    async def _m_deleteWebhook(self, call: Call) -> Any:
        self.webhook = {}
        return True

    async def _m_getWebhookInfo(self, call: Call) -> Any:
        return {
            "url": self.webhook.get("url", ""),
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
            "allowed_updates": self.webhook.get("allowed_updates") or [],
            **self.webhook_status,
        }

    async def _m_getUpdates(self, call: Call) -> Any:
        offset = int(call.params.get("offset", 0) or 0)
        if offset:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        if not self._updates:
            self._new_updates.clear()
            wait = min(float(call.params.get("timeout", 0) or 0), self.max_poll_wait)
            if wait > 0:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(wait):
                        await self._new_updates.wait()
        limit = int(call.params.get("limit", 100) or 100)
        return self._updates[:limit]
