"""Refusing what another web site makes its visitors' browsers send to the web chat API.

A page anywhere can make a visitor's browser POST to ``/api/webchat``. With ``Content-Type: text/plain``
that is a "simple request": the browser sends it without asking first (no CORS preflight), so any page
could open sessions or raise emergencies in its visitors' names. Two checks close that door:

* the body must be declared ``application/json`` (else **415**): a cross-site page can only send that
  after a preflight, which this service answers for the origins it lists and no other;
* a request that carries ``Origin`` (browsers add it to every cross-site POST and to same-site ones too)
  must come from this service's own origin (the request's ``Host``, or ``HOTLINE_PUBLIC_URL``) or from one
  listed in ``HOTLINE_WEBCHAT_ORIGINS`` (else **403**). Requests without ``Origin`` (scripts, tests,
  old browsers on a same-origin GET) are not browsers acting for another site and pass.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from urllib.parse import urlsplit

from fastapi import Request
from fastapi.responses import JSONResponse
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

JSON_TYPE = "application/json"
_DEFAULT_PORTS = {"http": 80, "https": 443}


def origin_of(url: str) -> str | None:
    """``scheme://host:port`` of a URL or an ``Origin`` header, lower-cased, the port always written."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    scheme, host = parts.scheme.lower(), (parts.hostname or "").lower()
    if scheme not in _DEFAULT_PORTS or not host:
        return None
    host = f"[{host}]" if ":" in host else host
    return f"{scheme}://{host}:{port or _DEFAULT_PORTS[scheme]}"


def allowed_origins(public_url: str, listed: Iterable[str]) -> frozenset[str]:
    """The origins the web chat takes requests from besides its own request's."""
    found = (origin_of(url) for url in (public_url, *listed))
    return frozenset(origin for origin in found if origin is not None)


def refuse_cross_site(request: Request, allowed: frozenset[str]) -> JSONResponse | None:
    """415 for a body not declared JSON, 403 for a foreign ``Origin``; None when the request may go on."""
    media_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media_type != JSON_TYPE:
        return JSONResponse({"error": "send the body as Content-Type: application/json"}, status_code=415)
    origin = request.headers.get("origin")
    if origin is None:
        return None
    own = origin_of(f"{request.url.scheme}://{request.headers.get('host', '')}")
    given = origin_of(origin)
    if given is None or (given != own and given not in allowed):
        return JSONResponse(
            {"error": "this origin may not use the web chat API (HOTLINE_WEBCHAT_ORIGINS)"}, status_code=403
        )
    return None


class WebChatCors:
    """ASGI middleware: CORS (preflights and response headers) on ``/api/webchat*`` for the listed origins.

    Only for ``HOTLINE_WEBCHAT_ORIGINS``: a partner's page that runs its own chat against this API. No
    cookies are involved (the API has none), so no credentials are allowed.
    """

    def __init__(self, app: ASGIApp, origins: Sequence[str]) -> None:
        self.app = app
        self.cors = CORSMiddleware(
            app, allow_origins=list(origins), allow_methods=["GET", "POST"], allow_headers=["content-type"],
            max_age=600,
        )  # fmt: skip

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith("/api/webchat"):
            await self.cors(scope, receive, send)
        else:
            await self.app(scope, receive, send)
