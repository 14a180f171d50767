"""Security headers (bot/web/headers.py): added to every answer, a route's own kept, HSTS over https."""

from __future__ import annotations

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from bot.web.headers import CSP, HSTS, SecurityHeaders


async def page(request: Request) -> PlainTextResponse:
    return PlainTextResponse("ok", headers={"Content-Security-Policy": "default-src 'self'", "X-Other": "1"})


async def plain(request: Request) -> PlainTextResponse:
    return PlainTextResponse("ok")


@pytest.mark.parametrize("https", [False, True])
async def test_headers_are_added_once_and_a_routes_own_is_kept(https: bool) -> None:
    app = SecurityHeaders(Starlette(routes=[Route("/page", page), Route("/plain", plain)]), https=https)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        own = await client.get("/page")
        plain_answer = await client.get("/plain")
    assert own.headers.get_list("content-security-policy") == ["default-src 'self'"]
    assert own.headers["x-other"] == "1"
    assert plain_answer.headers.get_list("content-security-policy") == [CSP]
    for answer in (own, plain_answer):
        assert answer.headers["x-frame-options"] == "DENY"
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert answer.headers["referrer-policy"] == "no-referrer"
        assert answer.headers.get("strict-transport-security") == (HSTS if https else None)
