"""The HTTP edge under attack (issue 15): cross-site posts, JSON of any depth, ids out of range, ids with a
trailing newline. Every refusal is a short 4xx, nothing is written, nothing is logged with a traceback."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi.routing import APIRoute

from bot.http.jsonbody import MAX_DEPTH, BadJson, parse_json
from bot.runtime import Services
from bot.store.ids import MAX_ROW_ID
from tests.channels.telegram.test_staff import LAN, setup_rota
from tests.console.test_console import add_staff, emergency, login
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.zalo_api import FakeZalo
from tests.support.db import assert_nothing_written
from tests.web.conftest import PUBLIC_URL, as_json, post_oa, post_telegram, post_twilio, post_zalo, row_counts

HUGE = "99999999999999999999999"


def session_id() -> str:
    return secrets.token_hex(16)


def nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


def no_tracebacks(caplog: pytest.LogCaptureFixture) -> None:
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR], caplog.text


# -- 1. the web chat takes JSON only, and only from its own pages ---------------------------------------


@pytest.mark.parametrize("path", ["/api/webchat", "/api/webchat/poll", "/api/webchat/stream"])
async def test_a_text_plain_post_is_refused_with_415_and_nothing_is_written(
    client: httpx.AsyncClient, services: Services, path: str
) -> None:
    """A cross-site form or fetch with text/plain needs no preflight: it must not open a session."""
    before = await row_counts(services)
    body = as_json({"session": session_id(), "text": "cuu em voi, no dang danh em"})
    for content_type in ("text/plain", "text/plain;charset=UTF-8", "application/x-www-form-urlencoded", None):
        headers = {"Content-Type": content_type} if content_type else {}
        response = await client.post(path, content=body, headers=headers)
        assert response.status_code == 415, (content_type, response.text)
        assert "application/json" in response.json()["error"]
    await assert_nothing_written(services, before)


async def test_a_foreign_origin_is_refused_with_403_and_the_own_origin_is_served(
    client: httpx.AsyncClient, services: Services
) -> None:
    before = await row_counts(services)
    body = {"session": session_id(), "text": "cuu em voi, no dang danh em"}
    for origin in (
        "https://evil.example",
        "null",
        "http://hotline.example.org",
        "https://hotline.example.org.evil",
    ):
        response = await client.post("/api/webchat", json=body, headers={"Origin": origin})
        assert response.status_code == 403, (origin, response.text)
    await assert_nothing_written(services, before)
    # its own origin: the request's host, or HOTLINE_PUBLIC_URL (here https://hotline.example.org)
    for origin in ("http://testserver", "https://hotline.example.org", "https://HOTLINE.example.org:443"):
        response = await client.post(
            "/api/webchat", json={"session": session_id(), "event": "start"}, headers={"Origin": origin}
        )
        assert response.status_code == 200, (origin, response.text)


async def test_a_listed_origin_is_served_with_cors(services: Services) -> None:
    from bot.web.app import create_app

    services.settings.webchat_origins = ["https://partner.example.vn"]
    app = create_app(services=services, run_dispatcher=False)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ) as http:
        origin = {"Origin": "https://partner.example.vn"}
        preflight = await http.options(
            "/api/webchat",
            headers={
                **origin,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "content-type",
            },
        )
        assert preflight.status_code == 200
        assert preflight.headers["access-control-allow-origin"] == "https://partner.example.vn"
        response = await http.post(
            "/api/webchat", json={"session": session_id(), "event": "start"}, headers=origin
        )
        assert response.status_code == 200
        assert response.headers["access-control-allow-origin"] == "https://partner.example.vn"
        other = await http.options(
            "/api/webchat",
            headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
        )
        assert "access-control-allow-origin" not in other.headers


# -- 2. JSON of any depth --------------------------------------------------------------------------------


def test_the_json_reader_refuses_deep_huge_and_non_json_bodies() -> None:
    assert parse_json(nested(MAX_DEPTH)) == parse_json(nested(MAX_DEPTH))
    for body in (nested(MAX_DEPTH + 1), nested(1_000), nested(100_000), b'{"a":' * 50_000, b"NaN", b"[Infinity]",
                 b"1" * 5_000, b"\xff\xfe{", b"{"):  # fmt: skip
        with pytest.raises(BadJson):
            parse_json(body)


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 1_000, 100_000])
async def test_deeply_nested_json_gets_400_everywhere_without_a_traceback(
    client: httpx.AsyncClient,
    services: Services,
    zalo: FakeZalo,
    caplog: pytest.LogCaptureFixture,
    depth: int,
) -> None:
    caplog.set_level(logging.INFO)
    before = await row_counts(services)
    body = nested(depth)
    in_object = b'{"session": "%s", "text": ' % session_id().encode() + body + b"}"
    json_headers = {"Content-Type": "application/json"}
    responses = [
        await client.post("/api/webchat", content=body, headers=json_headers),
        await client.post("/api/webchat", content=in_object, headers=json_headers),
        await client.post("/api/webchat/poll", content=in_object, headers=json_headers),
        await post_telegram(client, b'{"update_id": 1, "message": ' + body + b"}"),
        await post_zalo(client, b'{"event_name": "message.text.received", "message": ' + body + b"}"),
        await post_oa(client, b'{"timestamp": "1", "x": ' + body + b"}", app_id=zalo.app_id, timestamp="1"),
    ]
    for response in responses:
        if len(response.request.content) > 64_000:  # over the web chat's and Zalo's body limit
            assert response.status_code in (400, 413), (response.request.url, response.text)
            continue
        assert response.status_code == 400, (response.request.url, response.text)
        assert "nested deeper" in response.json()["error"]
    no_tracebacks(caplog)
    await assert_nothing_written(services, before)


# -- ids out of range ----------------------------------------------------------------------------------


async def test_an_id_out_of_range_gets_4xx_on_every_console_route(
    services: Services, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    from bot.web.app import create_app

    app = create_app(services=services, run_dispatcher=False)  # HTTPS: the console's cookie is Secure here
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=PUBLIC_URL) as client:
        await _every_console_route(client, services)
    no_tracebacks(caplog)


async def _every_console_route(client: httpx.AsyncClient, services: Services) -> None:
    await add_staff(services, "lan")
    await add_staff(services, "sup", role="supervisor")
    token = await login(client, "sup")
    await emergency(client)
    for escalation in (HUGE, str(MAX_ROW_ID + 1), "-1", "0"):
        base = f"/console/escalations/{escalation}"
        for response in (
            await client.get(base),
            await client.get(f"/console/api/escalations/{escalation}/messages"),
            await client.post(f"{base}/take", data={"token": token}),
            await client.post(f"{base}/reply", data={"token": token, "text": "hi"}),
            await client.post(f"{base}/close", data={"token": token, "outcome": "safe"}),
            await client.post(f"{base}/handover", data={"token": token, "to": "1"}),
            await client.post("/console/escalations/1/handover", data={"token": token, "to": escalation}),
        ):
            assert response.status_code == 422, (response.request.url, response.text)
    assert (
        await client.get(f"/console/escalations/{MAX_ROW_ID}")
    ).status_code == 403  # in range: no such case


async def test_every_route_that_takes_an_id_bounds_it(client: httpx.AsyncClient) -> None:
    """A new route with a bare ``int`` path parameter would bring the 500 back: use bot.http.ids.RowId."""
    app = client._transport.app  # type: ignore[attr-defined]
    checked = 0
    for route in api_routes(app.routes):
        checked += 1
        for param in route.dependant.path_params + route.dependant.body_params + route.dependant.query_params:
            if param.field_info.annotation is int:
                bounds = {type(m).__name__ for m in param.field_info.metadata}
                assert {"Ge", "Le"} <= bounds, f"{route.path}: `{param.name}` is an unbounded int"
    assert checked > 10, "the routes were found"


def api_routes(routes: list[Any]) -> Iterator[APIRoute]:
    """Every APIRoute, also inside included routers (FastAPI keeps those as wrappers of the router)."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        included = getattr(route, "original_router", None)
        if included is not None:
            yield from api_routes(included.routes)


async def test_a_telegram_take_with_an_id_out_of_range_is_answered_not_crashed(
    client: httpx.AsyncClient, services: Services, telegram: FakeTelegram, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    await setup_rota(services)  # LAN is a counsellor: the tap reaches the desk
    update = telegram.callback_update(LAN, "take:999999999999", message_id=1, from_id=LAN)
    response = await post_telegram(client, as_json(update))
    assert response.status_code == 200, response.text
    answers = telegram.calls_of("answerCallbackQuery")
    assert answers and "no escalation" in str(answers[-1].params.get("text"))
    no_tracebacks(caplog)


async def test_huge_numbers_in_webhooks_and_the_web_chat_get_4xx_or_are_ignored(
    client: httpx.AsyncClient, services: Services, telegram: FakeTelegram, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    before = await row_counts(services)
    big = int(HUGE)
    json_headers = {"Content-Type": "application/json"}
    for body in (
        b'{"session": ' + HUGE.encode() + b', "text": "hi"}',
        b'{"session": "%s", "id": %d, "text": "x"}' % (session_id().encode(), big),
    ):
        response = await client.post("/api/webchat", content=body, headers=json_headers)
        assert response.status_code == 422, response.text
    too_long = b"9" * 5_000  # beyond Python's 4,300 digits: int() itself refuses it
    assert (await client.post("/api/webchat", content=too_long, headers=json_headers)).status_code == 400
    assert (await post_telegram(client, b'{"update_id": ' + too_long + b"}")).status_code == 400
    # Well-formed updates with huge ids: nothing breaks (Telegram's own ids are 52-bit)
    update = telegram.text_update(5550001, "xin chao")
    update["update_id"] = big
    update["message"]["message_id"] = big
    assert (await post_telegram(client, as_json(update))).status_code == 200
    response = await post_twilio(
        client, "/ivr/key", {"CallSid": "CA" + "0" * 32, "Digits": "1"}, f"shown={HUGE}"
    )
    assert response.status_code == 400
    response = await post_twilio(
        client, "/ivr/key", {"CallSid": "CA" + "0" * 32, "Digits": "1"}, "shown=%C2%B2"
    )
    assert response.status_code == 400, "'²' is a digit to str.isdigit() but not to int()"
    no_tracebacks(caplog)
    after = await row_counts(services)
    assert {k: v for k, v in after.items() if after[k] != before[k]}.keys() <= {
        "conversations", "messages", "contacts", "processed_messages", "outbox"
    }, "only the well-formed Telegram message was handled"  # fmt: skip


# -- ids with a trailing newline -------------------------------------------------------------------------


async def test_a_session_id_with_a_trailing_newline_is_refused(
    client: httpx.AsyncClient, services: Services
) -> None:
    """``^...$`` with match() took "<id>\\n" (``$`` also matches before a final newline)."""
    before = await row_counts(services)
    session = session_id() + "\n"
    for path, body in (
        ("/api/webchat", {"session": session, "event": "start"}),
        ("/api/webchat", {"session": session_id(), "id": "m-1\n", "text": "hi"}),
        ("/api/webchat/poll", {"session": session}),
        ("/api/webchat/stream", {"session": session}),
    ):
        response = await client.post(path, json=body)
        assert response.status_code == 422, (path, response.text)
    await assert_nothing_written(services, before)


async def test_a_twilio_call_sid_with_a_trailing_newline_is_refused(client: httpx.AsyncClient) -> None:
    response = await post_twilio(
        client, "/ivr/voice", {"CallSid": "CA" + "0" * 32 + "\n", "From": "+84901234567"}
    )
    assert response.status_code == 400, response.text
