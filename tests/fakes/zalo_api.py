"""A fake Zalo on loopback: the Bot Platform API, the OA API and the OAuth endpoint, in one small real
HTTP server that records every call.

It behaves like Zalo where the hotline depends on it: a wrong bot token gets 401; ``sendMessage`` refuses
a text over 2,000 characters; ``/v3.0/oa/message/cs`` answers ``-216`` to an access token that is not
valid (or was expired with :meth:`FakeZalo.expire`); ``/v4/oa/access_token`` needs the app secret and
honours each refresh token exactly once, as Zalo does.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

TEXT_LIMIT = 2000


@dataclass
class Call:
    """One request the fake received."""

    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body or b"{}")

    def form(self) -> dict[str, str]:
        return dict(urllib.parse.parse_qsl(self.body.decode()))


@dataclass
class FakeZalo:
    """The fake's state: what it accepts and what it was sent."""

    bot_token: str = "3141592653:fake-bot-token"
    app_id: str = "2718281828459045"
    app_secret: str = "fake-app-secret"
    valid_access: set[str] = field(default_factory=lambda: {"access-0"})
    refresh_tokens: dict[str, bool] = field(default_factory=lambda: {"refresh-0": False})  # token -> used
    oauth_delay: float = 0.05  # seconds; makes racing refreshes overlap
    bot_failures: list[tuple[int, dict[str, Any]]] = field(default_factory=list)  # next sendMessage answers
    window_closed: set[str] = field(default_factory=set)  # users Zalo refuses free messages to (-213)
    calls: list[Call] = field(default_factory=list)
    bot_sent: list[tuple[str, str]] = field(default_factory=list)  # (chat_id, text) the bot sent
    oa_sent: list[tuple[str, str]] = field(default_factory=list)  # (user_id, text) the OA sent
    issued: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadingHTTPServer | None = None

    # -- what tests look at ------------------------------------------------------------------------

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def refreshes(self) -> list[Call]:
        return [c for c in self.calls if c.path == "/v4/oa/access_token"]

    def expire(self, access_token: str) -> None:
        self.valid_access.discard(access_token)

    # -- Zalo's behaviour --------------------------------------------------------------------------

    def answer(self, path: str, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, Any]]:
        with self._lock:
            self.calls.append(Call(path, headers, body))
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
            time.sleep(self.oauth_delay)
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
        if method == "sendMessage":
            with self._lock:
                if self.bot_failures:
                    return self.bot_failures.pop(0)
            if not data.get("chat_id") or not isinstance(data.get("text"), str):
                return 400, {"ok": False, "error_code": 400, "description": "Bad Request: chat_id and text"}
            if len(data["text"]) > TEXT_LIMIT:
                return 400, {"ok": False, "error_code": 400, "description": "Bad Request: text is too long"}
            with self._lock:
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
        with self._lock:
            self.oa_sent.append((user_id, text))
        return 200, {
            "error": 0,
            "message": "Success",
            "data": {"message_id": f"m{len(self.calls)}", "user_id": user_id},
        }

    def _oauth(self, headers: dict[str, str], form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        if headers.get("secret_key") != self.app_secret or form.get("app_id") != self.app_id:
            return 200, {"error": -14002, "error_name": "Invalid app", "error_description": "secret"}
        with self._lock:
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

    # -- the server ----------------------------------------------------------------------------------

    def start(self) -> FakeZalo:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                headers = {k.lower(): v for k, v in self.headers.items()}
                path = urllib.parse.urlsplit(self.path).path
                status, data = fake.answer(path, headers, body)
                raw = json.dumps(data).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            do_GET = do_POST

            def log_message(self, format: str, *args: Any) -> None:
                return None

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, name="fake-zalo", daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
