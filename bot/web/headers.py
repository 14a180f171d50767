"""Security headers on every response (the console's pages above all), as a small ASGI middleware.

* ``Content-Security-Policy``: scripts, styles, images and requests from this site only, no inline script
  or style (the console's JavaScript and CSS are files; its ``<script type="application/json">`` blocks
  are data, which CSP does not block), no plugins, no ``<base>``, forms posted only here, never framed;
* ``X-Frame-Options: DENY`` for browsers without ``frame-ancestors``; ``X-Content-Type-Options: nosniff``;
  ``Referrer-Policy: no-referrer`` (a console address names a case);
* ``Strict-Transport-Security`` when the request came over https (directly, or through a trusted proxy
  that says so: uvicorn's ``--forwarded-allow-ips``) or the public URL is https.

A header a route sets itself (the web chat page's own policy) is kept.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
HSTS = "max-age=31536000; includeSubDomains"
RAW_HEADERS = [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in HEADERS.items()]
RAW_HSTS = (b"strict-transport-security", HSTS.encode("latin-1"))


class SecurityHeaders:
    def __init__(self, app: ASGIApp, *, https: bool = False) -> None:
        self.app = app
        self.https = https  # the public URL is https: every response says so, whatever the hop said

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        hsts = self.https or scope.get("scheme") == "https"

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                # as MutableHeaders would add them, without its per-header scans and encodings
                headers = message["headers"] = list(message.get("headers", ()))
                present = {name.lower() for name, _ in headers}
                headers.extend(header for header in RAW_HEADERS if header[0] not in present)
                if hsts and RAW_HSTS[0] not in present:
                    headers.append(RAW_HSTS)
            await send(message)

        await self.app(scope, receive, with_headers)
