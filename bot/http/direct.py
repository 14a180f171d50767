"""Requests for a few exact addresses go straight to their endpoint, past FastAPI's router.

FastAPI's routing costs more than a small webhook's own work: it tries the request against the routes in
turn, solves the endpoint's dependencies, opens exit stacks and keeps its scope keys, all before and
after an endpoint that takes the :class:`~starlette.requests.Request` and returns a
:class:`~starlette.responses.Response`. Measured on the phone line's greeting (``POST /ivr/voice``,
in-process): about two thirds of the request's CPU time. :class:`DirectRoutes` is an ASGI middleware,
the innermost of the app's own (so the body limit, the security headers and the 500 page of the outer
ones still apply), that serves listed ``(method, path)`` pairs itself: the endpoint is called with the
request, an :class:`~fastapi.HTTPException` is answered by the app's own handler for it, and anything
else raised goes out as before. Every other request, another method on a listed path included (405),
goes on to the router. The routes stay on the router too (the schema, and any request not served here).

Only endpoints that take nothing but the request belong here: nothing is validated or injected for them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

from fastapi import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

Endpoint = Callable[[Request], Awaitable[Response]]
ErrorHandler = Callable[[Request, HTTPException], Awaitable[Response]]


def route_path(scope: Scope) -> str:
    """The path the router matches: ``path`` without the ``root_path`` it starts with (as Starlette)."""
    path: str = scope["path"]
    root = scope.get("root_path", "")
    if root and path.startswith(root) and path != root and path[len(root)] == "/":
        return path[len(root) :]
    return path


class DirectRoutes:
    """ASGI middleware: ``routes`` (``(method, path)`` to endpoint) served here; the rest passed on."""

    def __init__(
        self, app: ASGIApp, *, routes: Mapping[tuple[str, str], Endpoint], on_http_error: ErrorHandler
    ) -> None:
        self.app = app
        self.routes = dict(routes)
        self.on_http_error = on_http_error

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            endpoint = self.routes.get((scope["method"], route_path(scope)))
            if endpoint is not None:
                request = Request(scope, receive, send)
                try:
                    response = await endpoint(request)
                except HTTPException as exc:
                    response = await self.on_http_error(request, exc)
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)
