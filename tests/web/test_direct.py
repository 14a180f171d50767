"""Routes served past FastAPI's router (bot/http/direct.py) answer exactly as the router would.

A tiny real app, built twice: once with its route served by the router only, once with the same endpoint
also served directly. Every answer (success, HTTPException, another method, an outer middleware's header,
a proxy's root path) must be the same byte for byte; and the direct one must really be served directly.
"""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot.http.direct import DirectRoutes


class Stamp:
    """An outer middleware that adds a header to every answer."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def stamped(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message["headers"], (b"x-stamp", b"1")]
            await send(message)

        await self.app(scope, receive, stamped)


def make_app(*, direct: bool, served: list[str]) -> FastAPI:
    app = FastAPI()

    async def hook(request: Request) -> Response:
        body = await request.body()
        served.append("router" if "route" in request.scope else "direct")
        if body == b"refuse":
            raise HTTPException(403, "not signed", headers={"X-Why": "signature"})
        if body == b"crash":
            raise RuntimeError("boom")
        return Response(b"<Response/>" + body, media_type="application/xml")

    app.post("/hook")(hook)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        return JSONResponse({"error": exc.detail}, status_code=exc.status_code, headers=exc.headers)

    if direct:
        app.add_middleware(DirectRoutes, routes={("POST", "/hook"): hook}, on_http_error=http_error)
    app.add_middleware(Stamp)
    return app


async def answers(app: FastAPI, root_path: str = "") -> list[tuple[int, bytes, list[tuple[str, str]]]]:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False, root_path=root_path)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        responses = [
            await client.post(f"{root_path}/hook", content=b"ok"),
            await client.post(f"{root_path}/hook", content=b"refuse"),
            await client.post(f"{root_path}/hook", content=b"crash"),
            await client.get(f"{root_path}/hook"),
            await client.post(f"{root_path}/hook/", content=b"ok"),
            await client.post(f"{root_path}/other", content=b"ok"),
        ]
    return [(r.status_code, r.content, sorted(r.headers.items())) for r in responses]


@pytest.mark.parametrize("root_path", ["", "/hotline"])
async def test_a_direct_route_answers_as_the_router_does(root_path: str) -> None:
    by_router: list[str] = []
    by_direct: list[str] = []
    routed = await answers(make_app(direct=False, served=by_router), root_path)
    direct = await answers(make_app(direct=True, served=by_direct), root_path)
    assert direct == routed
    assert [status for status, _, _ in direct] == [200, 403, 500, 405, 307, 404]
    # the outer middleware stamps every answer but the 500 page (made outside it, by Starlette)
    assert [("x-stamp", "1") in headers for _, _, headers in direct] == [True, True, False, True, True, True]
    assert by_router == ["router"] * 3
    # the three POSTs to /hook itself were served directly; /hook/ was redirected by the router
    assert by_direct == ["direct"] * 3
