"""A fake Meta Graph API on loopback (the Messenger Send API), on the fakes' base (tests/fakes/base.py).

It behaves like Meta where the hotline depends on it: ``POST /{version}/me/messages`` needs the page token
as ``access_token`` (else error 190, "Invalid OAuth access token"), ``messaging_type`` and ``recipient.id``;
refuses a text over 2,000 characters and more than 13 quick replies; a ``MESSAGE_TAG`` send needs a
``tag``. ``GET /{version}/me`` answers the page's name to a valid token (what ``hotline doctor`` asks).
:meth:`FakeGraph.fail_send` makes the next sends fail with a given status and Meta error.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aiohttp import web

from tests.fakes.base import FakeServer

TEXT_LIMIT = 2000
MAX_QUICK_REPLIES = 13


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


class FakeGraph(FakeServer):
    """The Send API and the page's ``/me``, recording what the page sent (``sent``)."""

    def __init__(
        self,
        page_token: str = "EAAfake-page-token",
        version: str = "v25.0",
        page_name: str = "Đường dây nóng",
    ) -> None:
        super().__init__()
        self.page_token = page_token
        self.version = version
        self.page_name = page_name
        self.sent: list[Sent] = []

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/{version}/me/messages", self._send)
        app.router.add_get("/{version}/me", self._me)

    def name_of(self, request: web.Request) -> str:
        return "messages" if request.path.endswith("/me/messages") else "me"

    def error_body(self, status: int) -> Any:
        return error(status, 1, "fake failure")[1]

    # -- what tests look at ------------------------------------------------------------------------

    def fail_send(
        self, status: int, code: int, message: str, subcode: int | None = None, times: int = 1
    ) -> None:
        """Make the next ``times`` sends fail with this status and Meta error."""
        self.fail("messages", status=status, body=error(status, code, message, subcode)[1], times=times)

    def texts(self, psid: str | None = None) -> list[str]:
        return [s.text for s in self.sent if psid is None or s.psid == psid]

    # -- Meta's behaviour --------------------------------------------------------------------------

    def _token_refused(self, request: web.Request) -> web.Response | None:
        token = request.query.get("access_token")
        if request.match_info["version"] != self.version:
            return self.refuse(self.call_of(request), 404, error(404, 803, "Unknown path")[1])
        if token != self.page_token:
            status, body = error(400 if token else 401, 190, "Invalid OAuth access token.")
            return self.refuse(self.call_of(request), status, body)
        return None

    async def _me(self, request: web.Request) -> web.Response:
        return self._token_refused(request) or web.json_response({"name": self.page_name, "id": "1029384756"})

    async def _send(self, request: web.Request) -> web.Response:
        refused = self._token_refused(request)
        if refused is not None:
            return refused
        call = self.call_of(request)
        data = call.json() if call.body else {}
        psid = (data.get("recipient") or {}).get("id")
        messaging_type = data.get("messaging_type")
        message = data.get("message") or {}
        text = message.get("text")
        quick = message.get("quick_replies") or []
        problem = None
        if not psid or messaging_type not in ("RESPONSE", "UPDATE", "MESSAGE_TAG"):
            problem = "(#100) recipient.id and messaging_type are required"
        elif messaging_type == "MESSAGE_TAG" and not data.get("tag"):
            problem = "(#100) a MESSAGE_TAG send needs a tag"
        elif not isinstance(text, str) or not text or len(text) > TEXT_LIMIT:
            problem = "(#100) Length of param message[text] must be less than or equal to 2000"
        elif len(quick) > MAX_QUICK_REPLIES or any(not q.get("title") or not q.get("payload") for q in quick):
            problem = "(#100) Invalid quick_replies"
        if problem is not None:
            return self.refuse(call, 400, error(400, 100, problem)[1])
        self.sent.append(Sent(str(psid), text, list(quick), messaging_type, data.get("tag")))
        return web.json_response({"recipient_id": psid, "message_id": f"m_fake{len(self.sent)}"})
