"""Property-based fuzzing (Hypothesis) of every webhook parser and of the web chat API.

Arbitrary JSON, near-valid payloads, forms and raw bytes, posted the way each platform posts them
(with its secret or signature, so the parser behind the check is what is reached): never a 5xx, and a
refused request (4xx) writes nothing (the rows of every table are counted before and after).

The example counts are modest so the suite stays fast; ``HOTLINE_FUZZ=long`` runs a thousand each.
"""

from __future__ import annotations

import json
import os
from typing import Any
from urllib.parse import urlencode

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.clock import FrozenClock
from bot.runtime import Services
from ivr.urls import DIAL, KEY, OFFER, SCREEN, SCREEN_KEY, STATUS, VOICE
from tests.fakes.zalo_api import FakeZalo
from tests.support.db import assert_nothing_written
from tests.web.conftest import post_oa, post_telegram, post_twilio, post_zalo, row_counts

settings.register_profile(
    "edge", max_examples=25, deadline=None, database=None, print_blob=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)  # fmt: skip
settings.register_profile("edge-long", parent=settings.get_profile("edge"), max_examples=1000)
FUZZ = settings.get_profile("edge-long" if os.environ.get("HOTLINE_FUZZ") == "long" else "edge")

scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40)
json_values = st.recursive(
    scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=25,
)  # fmt: skip
ids = st.integers() | st.text(max_size=30) | st.none()
texts = st.text(max_size=200) | st.sampled_from(["cuu em voi", "PrEP là gì", "xóa", "/start", "1", ""])


def encoded(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode("utf-8", "surrogatepass")


async def check(services: Services, before: dict[str, int], response: httpx.Response) -> None:
    assert response.status_code < 500, (response.status_code, response.text)
    if response.status_code >= 400:
        await assert_nothing_written(services, before)


# -- the web chat --------------------------------------------------------------------------------------

sessions = st.text(alphabet="abcdef0123456789-_\n ", min_size=0, max_size=40) | st.text(max_size=20)
webchat_bodies = st.fixed_dictionaries(
    {"session": sessions | json_values},
    optional={"text": texts | json_values, "choice": st.text(max_size=30) | json_values,
              "event": st.sampled_from(["start", "stop"]) | json_values, "id": ids},
)  # fmt: skip


@FUZZ
@given(
    body=webchat_bodies | json_values,
    path=st.sampled_from(["/api/webchat", "/api/webchat/poll", "/api/webchat/stream"]),
)
async def test_web_chat_never_fails_and_refusals_write_nothing(
    client: httpx.AsyncClient, services: Services, body: Any, path: str
) -> None:
    before = await row_counts(services)
    response = await client.post(path, content=encoded(body), headers={"Content-Type": "application/json"})
    await check(services, before, response)


@FUZZ
@given(body=st.binary(max_size=300), content_type=st.sampled_from(["application/json", "text/plain", ""]))
async def test_web_chat_takes_any_bytes(
    client: httpx.AsyncClient, services: Services, body: bytes, content_type: str
) -> None:
    before = await row_counts(services)
    response = await client.post("/api/webchat", content=body, headers={"Content-Type": content_type})
    await check(services, before, response)


# -- Telegram (people and staff) -------------------------------------------------------------------------

chats = st.fixed_dictionaries(
    {"id": ids | st.integers(), "type": st.sampled_from(["private", "group", "supergroup", "x"])}
)
users = st.fixed_dictionaries(
    {"id": st.integers(), "is_bot": st.booleans(), "first_name": st.text(max_size=10)}
)
telegram_messages = st.fixed_dictionaries(
    {"message_id": st.integers(), "date": st.integers(), "chat": chats},
    optional={"from": users, "text": texts, "caption": texts, "sticker": json_values, "reply_to_message": json_values},
)  # fmt: skip
callbacks = st.fixed_dictionaries(
    {"id": st.text(max_size=10), "from": users, "chat_instance": st.text(max_size=5)},
    optional={"data": st.from_regex(r"take:[0-9]{1,14}", fullmatch=True) | st.text(max_size=20), "message": telegram_messages},
)  # fmt: skip
updates = st.fixed_dictionaries(
    {"update_id": st.integers()},
    optional={"message": telegram_messages | json_values, "callback_query": callbacks, "edited_message": telegram_messages},
)  # fmt: skip


@FUZZ
@given(update=updates | json_values)
async def test_telegram_webhook_never_fails(
    client: httpx.AsyncClient, services: Services, update: Any
) -> None:
    before = await row_counts(services)
    await check(services, before, await post_telegram(client, encoded(update)))


# -- Zalo Bot Platform and Official Account -------------------------------------------------------------

zalo_events = st.fixed_dictionaries(
    {"event_name": st.sampled_from(["message.text.received", "message.image.received", "x"]) | json_values,
     "message": st.fixed_dictionaries(
         {"from": st.fixed_dictionaries({"id": ids}, optional={"is_bot": json_values}),
          "chat": st.fixed_dictionaries({"id": ids}, optional={"chat_type": json_values}),
          "message_id": ids},
         optional={"text": texts | json_values}) | json_values},
)  # fmt: skip


@FUZZ
@given(
    event=zalo_events
    | st.fixed_dictionaries({"ok": json_values, "result": zalo_events | json_values})
    | json_values
)
async def test_zalo_bot_webhook_never_fails(
    client: httpx.AsyncClient, services: Services, event: Any
) -> None:
    before = await row_counts(services)
    await check(services, before, await post_zalo(client, encoded(event)))


oa_events = st.fixed_dictionaries(
    {"event_name": st.sampled_from(["user_send_text", "user_send_image", "follow"]) | json_values,
     "sender": st.fixed_dictionaries({"id": ids}) | json_values,
     "message": st.fixed_dictionaries({"msg_id": ids}, optional={"text": texts | json_values}) | json_values},
    optional={"app_id": ids},
)  # fmt: skip


@FUZZ
@given(event=oa_events, stale=st.booleans())
async def test_zalo_oa_webhook_never_fails(
    client: httpx.AsyncClient,
    services: Services,
    zalo: FakeZalo,
    clock: FrozenClock,
    event: dict[str, Any],
    stale: bool,
) -> None:
    timestamp = str(int(clock.now().timestamp() * 1000) - (10**9 if stale else 0))
    before = await row_counts(services)
    body = encoded({**event, "timestamp": timestamp})
    await check(services, before, await post_oa(client, body, app_id=zalo.app_id, timestamp=timestamp))


@FUZZ
@given(body=st.binary(max_size=300), door=st.sampled_from(["telegram", "zalo"]))
async def test_webhooks_take_any_bytes(
    client: httpx.AsyncClient, services: Services, body: bytes, door: str
) -> None:
    before = await row_counts(services)
    response = await (post_telegram if door == "telegram" else post_zalo)(client, body)
    await check(services, before, response)


# -- Twilio voice (the phone line) -----------------------------------------------------------------------

form_names = st.sampled_from(
    ["CallSid", "From", "To", "Called", "Digits", "SpeechResult", "DialCallStatus", "DialCallDuration",
     "DialCallSid", "CallStatus", "CallDuration"]
) | st.text(max_size=8)  # fmt: skip
call_sids = st.just("CA" + "1" * 32) | st.from_regex(r"CA[0-9a-f]{32}", fullmatch=True) | st.text(max_size=40)
forms = st.dictionaries(form_names, st.text(max_size=30), max_size=8).flatmap(
    lambda form: st.fixed_dictionaries({"CallSid": call_sids}).map(lambda sid: {**form, **sid})
)
states = st.dictionaries(
    st.sampled_from(["shown", "next", "page", "tries", "kind", "ring", "since"]) | st.text(max_size=5),
    st.from_regex(r"[0-9]{1,12}", fullmatch=True) | st.text(max_size=12),
    max_size=4,
)


@FUZZ
@given(path=st.sampled_from([VOICE, KEY, DIAL, OFFER, STATUS, SCREEN, SCREEN_KEY]), form=forms, state=states)
async def test_phone_line_never_fails(
    client: httpx.AsyncClient, services: Services, path: str, form: dict[str, str], state: dict[str, str]
) -> None:
    before = await row_counts(services)
    await check(services, before, await post_twilio(client, path, form, urlencode(state)))
