"""A fake Meta Graph API on loopback (the Messenger Send API), in one small real HTTP server that records
every call.

It behaves like Meta where the hotline depends on it: ``POST /{version}/me/messages`` needs the page token
as ``access_token`` (else error 190, "Invalid OAuth access token"), ``messaging_type`` and ``recipient.id``;
refuses a text over 2,000 characters and more than 13 quick replies; a ``MESSAGE_TAG`` send needs a
``tag``. ``GET /{version}/me`` answers the page's name to a valid token (what ``hotline doctor`` asks).
:attr:`FakeGraph.failures` makes the next sends fail with a given status and error.
"""

from __future__ import annotations

import json
import threading
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

TEXT_LIMIT = 2000
MAX_QUICK_REPLIES = 13


@dataclass
class Call:
    """One request the fake received."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body or b"{}")


@dataclass
class Sent:
    """One message the page sent, as Meta took it."""

    psid: str
    text: str
    quick_replies: list[dict[str, Any]]
    messaging_type: str
    tag: str | None


def error(status: int, code: int, message: str, subcode: int | None = None) -> tuple[int, dict[str, Any]]:
    """An answer shaped like Meta's errors."""
    body: dict[str, Any] = {"message": message, "type": "OAuthException", "code": code, "fbtrace_id": "Ab1"}
    if subcode is not None:
        body["error_subcode"] = subcode
    return status, {"error": body}


@dataclass
class FakeGraph:
    """The fake's state: what it accepts and what it was sent."""

    page_token: str = "EAAfake-page-token"
    version: str = "v25.0"
    page_name: str = "Đường dây nóng"
    failures: list[tuple[int, dict[str, Any]]] = field(default_factory=list)  # the next sends' answers
    calls: list[Call] = field(default_factory=list)
    sent: list[Sent] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadingHTTPServer | None = None

    # -- what tests look at ------------------------------------------------------------------------

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def fail(self, status: int, code: int, message: str, subcode: int | None = None, times: int = 1) -> None:
        """Make the next ``times`` sends fail with this status and Meta error."""
        with self._lock:
            self.failures.extend([error(status, code, message, subcode)] * times)

    def texts(self, psid: str | None = None) -> list[str]:
        return [s.text for s in self.sent if psid is None or s.psid == psid]

    # -- Meta's behaviour --------------------------------------------------------------------------

    def answer(
        self, method: str, path: str, query: dict[str, str], headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, Any]]:
        with self._lock:
            self.calls.append(Call(method, path, query, headers, body))
        if query.get("access_token") != self.page_token:
            return error(400 if query.get("access_token") else 401, 190, "Invalid OAuth access token.")
        if method == "GET" and path == f"/{self.version}/me":
            return 200, {"name": self.page_name, "id": "1029384756"}
        if method == "POST" and path == f"/{self.version}/me/messages":
            return self._send(json.loads(body or b"{}"))
        return error(404, 803, "Unknown path")

    def _send(self, data: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        with self._lock:
            if self.failures:
                return self.failures.pop(0)
        psid = (data.get("recipient") or {}).get("id")
        messaging_type = data.get("messaging_type")
        message = data.get("message") or {}
        text = message.get("text")
        quick = message.get("quick_replies") or []
        if not psid or messaging_type not in ("RESPONSE", "UPDATE", "MESSAGE_TAG"):
            return error(400, 100, "(#100) recipient.id and messaging_type are required")
        if messaging_type == "MESSAGE_TAG" and not data.get("tag"):
            return error(400, 100, "(#100) a MESSAGE_TAG send needs a tag")
        if not isinstance(text, str) or not text or len(text) > TEXT_LIMIT:
            return error(400, 100, "(#100) Length of param message[text] must be less than or equal to 2000")
        if len(quick) > MAX_QUICK_REPLIES or any(not q.get("title") or not q.get("payload") for q in quick):
            return error(400, 100, "(#100) Invalid quick_replies")
        with self._lock:
            self.sent.append(Sent(str(psid), text, list(quick), messaging_type, data.get("tag")))
            n = len(self.sent)
        return 200, {"recipient_id": psid, "message_id": f"m_fake{n}"}

    # -- the server ----------------------------------------------------------------------------------

    def start(self) -> FakeGraph:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                headers = {k.lower(): v for k, v in self.headers.items()}
                parts = urllib.parse.urlsplit(self.path)
                query = dict(urllib.parse.parse_qsl(parts.query))
                status, data = fake.answer(self.command, parts.path, query, headers, body)
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
        threading.Thread(target=self._server.serve_forever, name="fake-graph", daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
