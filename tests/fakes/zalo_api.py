"""A fake Zalo on loopback: the Bot Platform API, the OA API and the OAuth endpoint, in one small real
HTTP server that records every call.

It behaves like Zalo where the hotline depends on it: a wrong bot token gets 401; ``sendMessage`` refuses
a text over 2,000 characters; ``/v3.0/oa/message/cs`` answers ``-216`` to an access token that is not
valid (or was expired with :meth:`FakeZalo.expire`); ``/v4/oa/access_token`` needs the app secret and
honours each refresh token exactly once, as Zalo does. It is a :class:`tests.fakes.base.FakeServer`
(one lifecycle, every request in ``calls``, ``fail(name, ...)`` for failures on demand).
"""

from __future__ import annotations

import asyncio
import json
import urllib.parse
from typing import Any

from aiohttp import web

from tests.fakes.base import Call, FakeServer

TEXT_LIMIT = 2000
BOT_SEND = "sendMessage"  # the name ``fail`` and ``calls_of`` know the Bot Platform's send under


class FakeZalo(FakeServer):
    """The fake's state: what it accepts and what it was sent.

    A Bot Platform request is named by its method (``fail("sendMessage", status=429, body=...)``),
    an OA or OAuth request by its path.
    """

    def __init__(self, *, oauth_delay: float = 0.05) -> None:
        super().__init__()
        self.bot_token = "3141592653:fake-bot-token"
        self.app_id = "2718281828459045"
        self.app_secret = "fake-app-secret"
        self.valid_access: set[str] = {"access-0"}
        self.refresh_tokens: dict[str, bool] = {"refresh-0": False}  # token -> used
        self.oauth_delay = oauth_delay  # seconds; makes racing refreshes overlap
        self.window_closed: set[str] = set()  # users Zalo refuses free messages to (-213)
        self.bot_sent: list[tuple[str, str]] = []  # (chat_id, text) the bot sent
        self.oa_sent: list[tuple[str, str]] = []  # (user_id, text) the OA sent
        self.issued = 0

    # -- what tests look at ------------------------------------------------------------------------

    @property
    def refreshes(self) -> list[Call]:
        return [c for c in self.calls if c.path == "/v4/oa/access_token"]

    def expire(self, access_token: str) -> None:
        self.valid_access.discard(access_token)

    # -- Zalo's behaviour --------------------------------------------------------------------------

    def routes(self, app: web.Application) -> None:
        app.router.add_route("*", "/{tail:.*}", self._handle)

    def name_of(self, request: web.Request) -> str:
        if request.path.startswith("/bot"):
            return request.path.rsplit("/", 1)[-1]
        return request.path

    def error_body(self, status: int) -> dict[str, Any]:
        return {"ok": False, "error_code": status, "description": "fake failure"}

    async def _handle(self, request: web.Request) -> web.Response:
        call = self.call_of(request)
        if call.path == "/v4/oa/access_token":
            await asyncio.sleep(self.oauth_delay)
        status, data = self.answer(call)
        call.status = status
        return web.json_response(data, status=status)

    def answer(self, call: Call) -> tuple[int, dict[str, Any]]:
        path, headers, body = call.path, call.headers, call.body
        if path.startswith("/bot"):
            token, _, method = path[len("/bot") :].partition("/")
            return self._bot(token, method, json.loads(body or b"{}"))
        if path == "/v2.0/oa/getoa":  # the OA's own profile: what a token check asks for
            if headers.get("access_token") not in self.valid_access:
                return 200, {"error": -216, "message": "Access token is invalid"}
            return 200, {"error": 0, "message": "Success", "data": {"oa_id": "1", "name": "Hotline OA"}}
        if path == "/v3.0/oa/message/cs":
            return self._oa_message(headers, json.loads(body or b"{}"))
        if path == "/v4/oa/access_token":
            return self._oauth(headers, dict(urllib.parse.parse_qsl(body.decode())))
        return 404, {"error": "not found"}

    def _bot(self, token: str, method: str, data: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if token != self.bot_token:
            return 401, {"ok": False, "error_code": 401, "description": "Unauthorized"}
        if method == "getMe":
            return 200, {
                "ok": True,
                "result": {"id": "99", "account_name": "bot.hotline", "can_join_groups": False},
            }
        if method == "setWebhook":
            secret = data.get("secret_token", "")
            if not data.get("url") or not 8 <= len(secret) <= 256:
                return 400, {"ok": False, "error_code": 400, "description": "Bad Request: bad webhook"}
            return 200, {"ok": True, "result": {"url": data["url"], "updated_at": 1}}
        if method == BOT_SEND:
            if not data.get("chat_id") or not isinstance(data.get("text"), str):
                return 400, {"ok": False, "error_code": 400, "description": "Bad Request: chat_id and text"}
            if len(data["text"]) > TEXT_LIMIT:
                return 400, {"ok": False, "error_code": 400, "description": "Bad Request: text is too long"}
            self.bot_sent.append((str(data["chat_id"]), data["text"]))
            return 200, {"ok": True, "result": {"message_id": f"m{len(self.calls)}", "date": 1}}
        return 404, {"ok": False, "error_code": 404, "description": "Not Found"}

    def _oa_message(self, headers: dict[str, str], data: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if headers.get("access_token") not in self.valid_access:
            return 200, {"error": -216, "message": "Access token is invalid"}
        user_id = (data.get("recipient") or {}).get("user_id")
        text = (data.get("message") or {}).get("text")
        if not user_id or not isinstance(text, str) or len(text) > TEXT_LIMIT:
            return 200, {"error": -201, "message": "Parameters are invalid"}
        if user_id in self.window_closed:
            return 200, {"error": -213, "message": "User has not interacted with the OA in the last 48 hours"}
        self.oa_sent.append((user_id, text))
        return 200, {
            "error": 0,
            "message": "Success",
            "data": {"message_id": f"m{len(self.calls)}", "user_id": user_id},
        }

    def _oauth(self, headers: dict[str, str], form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        if headers.get("secret_key") != self.app_secret or form.get("app_id") != self.app_id:
            return 200, {"error": -14002, "error_name": "Invalid app", "error_description": "secret"}
        # answered on the fake's one event loop: no two answers interleave, as Zalo's are atomic
        token = form.get("refresh_token", "")
        if form.get("grant_type") != "refresh_token" or self.refresh_tokens.get(token, True):
            return 200, {
                "error": -14014,
                "error_name": "Invalid refresh token",
                "error_description": "used",
            }
        self.refresh_tokens[token] = True
        self.issued += 1
        access, refresh = f"access-{self.issued}", f"refresh-{self.issued}"
        self.valid_access.add(access)
        self.refresh_tokens[refresh] = False
        return 200, {"access_token": access, "refresh_token": refresh, "expires_in": "90000"}
