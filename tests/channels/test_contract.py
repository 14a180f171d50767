"""What every door into the hotline must do, checked for every channel from one table (issue 16).

Like courier's handler tests (RapidPro), the cases are written once and run over a table of channels:
a row (:class:`Door`) says how the platform signs a request, where it posts, how it builds a person's
text message and how the person's answer is read back, which settings turn it on and which fake
(a fixture of tests/conftest.py) stands for its platform. Adding a channel (Messenger) is one row in
:data:`DOORS`; the cases below then hold it to the same contract:

- a wrong secret or signature gets the channel's documented refusal (401; 403 for the web chat's
  foreign origin and Twilio's signature) and writes nothing;
- a body that is not JSON (a malformed form for Twilio) gets 400 and writes nothing;
- a body over ``HOTLINE_MAX_BODY_BYTES``, and a 20 MB one sent without a length, get 413;
- a repeat (the same transport id: the platform retrying) is answered once and stored once;
- a group message or an update the hotline does not handle gets 200, is ignored, and a log line says
  so (with the word "ignored") and why, with no id or token in it;
- an emoji-only message gets a clear answer, not a 500.

Then what the replay of real payloads found (issue 16, "Why"), per channel. The cases not fixed on main
yet are ``xfail(strict=True)``: they pass, and so must be un-marked, once branch ``edges`` is merged.

Every channel is on at once, each against its fake (tests/fakes), on SQLite and PostgreSQL.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode

import httpx
import pytest
from pydantic import SecretStr
from twilio.request_validator import RequestValidator

from bot.channels.zalo.oa import signature
from bot.clock import FrozenClock
from bot.runtime import Services
from bot.settings import Settings
from bot.store.models import Contact, Conversation
from tests.fakes.graph_api import FakeGraph
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.twilio_caller import parse
from tests.fakes.zalo_api import FakeZalo
from tests.support.db import assert_nothing_written, count, drain, row_counts

TELEGRAM_SECRET = "contract_webhook-secret_0123456789"
ZALO_SECRET = "zalo-contract-secret-42"
OA_KEY = "oa-secret-key-for-the-contract"
TWILIO_TOKEN = "twilio-auth-token-for-the-contract-0123"
MESSENGER_SECRET = "messenger-contract-app-secret-0123"
MESSENGER_PSID = "6612345678900042"
PUBLIC_URL = "https://hotline.example.org"
# A person on each platform: raw ids that must never appear in a log line.
TELEGRAM_CHAT = 700_123_456
ZALO_USER = "8102937465019283746"
CALLER = "+84901234567"
WEBCHAT_SESSION = "contract-session-0123456789abcdef"
ONLY_TEXT = ("I can only read", "Mình chỉ đọc được")  # the engine's "send text" answers (flows/strings.yaml)
EDGES = pytest.mark.xfail(strict=True, reason="fixed on branch edges")


# -- the world a door lives in ------------------------------------------------------------------------------


@dataclass
class World:
    """The app (through ``client``), its services, the frozen clock, and the platforms' fakes by name."""

    client: httpx.AsyncClient
    services: Services
    clock: FrozenClock
    fakes: dict[str, Any]
    responses: list[httpx.Response] = field(default_factory=list)

    @property
    def telegram(self) -> FakeTelegram:
        fake = self.fakes["telegram"]
        assert isinstance(fake, FakeTelegram)
        return fake

    @property
    def zalo(self) -> FakeZalo:
        fake = self.fakes["zalo"]
        assert isinstance(fake, FakeZalo)
        return fake

    @property
    def graph(self) -> FakeGraph:
        fake = self.fakes["graph"]
        assert isinstance(fake, FakeGraph)
        return fake

    @property
    def secrets(self) -> list[str]:
        """What no log line may contain: the people's raw ids, and every secret of the settings."""
        found = [str(TELEGRAM_CHAT), ZALO_USER, CALLER, CALLER.lstrip("+"), WEBCHAT_SESSION, MESSENGER_PSID]
        settings = self.services.settings
        for name in type(settings).model_fields:
            value = getattr(settings, name)
            for item in value if isinstance(value, list) else [value]:
                if isinstance(item, SecretStr) and len(item.get_secret_value()) >= 6:
                    found.append(item.get_secret_value())
        return found


Sign = Callable[[World, bytes], dict[str, str]]


@dataclass(frozen=True)
class Door:
    """One channel's row: everything the contract needs to know about how its platform talks to us."""

    name: str
    path: str
    settings: Callable[[Any], dict[str, Any]]  # the settings that turn the channel on, given its fake
    sign: Sign  # the headers the platform sends with this body (signed when the channel signs)
    forged: tuple[Sign, ...]  # headers that must be refused: no secret, a wrong one, another origin ...
    refusal: int  # the documented status for ``forged``
    # a person's text message (text, transport id) as the platform sends it
    text: Callable[[World, str, str], bytes]
    replies: Callable[[World, httpx.Response], Awaitable[list[str]]]  # what the person was answered, so far
    not_json: bytes = b"{not json"  # the body that gets 400
    # an update to ignore with 200 and a log line (a group message ...); None: the channel has none
    ignored: Callable[[World], bytes] | None = None
    texts: bool = True  # the person can type (the phone line has keys and speech only)
    fake: str | None = None  # the fixture (tests/conftest.py) of the platform's fake, if it has one
    answers_in_response: bool = False  # replies come back in the HTTP response, not through the outbox

    async def post(self, world: World, body: bytes, headers: dict[str, str] | None = None) -> httpx.Response:
        response = await world.client.post(
            self.path, content=body, headers=self.sign(world, body) if headers is None else headers
        )
        world.responses.append(response)
        return response


# -- the rows --------------------------------------------------------------------------------------------------


def as_json(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode()


def json_headers(**extra: str) -> dict[str, str]:
    return {"Content-Type": "application/json", **extra}


async def webchat_replies(world: World, response: httpx.Response) -> list[str]:
    return [reply["text"] for reply in response.json().get("replies", [])]


WEBCHAT = Door(
    name="webchat",
    path="/api/webchat",
    settings=lambda fake: {},  # always on
    answers_in_response=True,
    sign=lambda world, body: json_headers(),
    forged=(lambda world, body: json_headers(Origin="https://evil.example"),),
    refusal=403,  # no secret: the web chat serves its own origin only (bot/web/cross_site.py)
    text=lambda world, text, transport_id: as_json(
        {"session": WEBCHAT_SESSION, "id": transport_id, "text": text}
    ),
    replies=webchat_replies,
    ignored=None,  # a page sends only what it knows; anything else is refused (422), not ignored
)


def telegram_update(world: World, text: str, transport_id: str, **kwargs: Any) -> dict[str, Any]:
    update = world.telegram.text_update(TELEGRAM_CHAT, text, **kwargs)
    update["update_id"] = int(hashlib.sha256(transport_id.encode()).hexdigest()[:8], 16)
    update["message"]["message_id"] = update["update_id"] % 100_000
    return update


async def telegram_replies(world: World, response: httpx.Response) -> list[str]:
    await drain(world.services)
    return [str(call.params.get("text")) for call in world.telegram.sent(TELEGRAM_CHAT)]


TELEGRAM = Door(
    name="telegram",
    path="/telegram/webhook",
    fake="telegram",
    settings=lambda telegram: {
        "telegram_token": SecretStr(telegram.token),
        "telegram_webhook_secret": SecretStr(TELEGRAM_SECRET),
        "telegram_api_url": telegram.url,
    },
    sign=lambda world, body: json_headers(**{"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET}),
    forged=(
        lambda world, body: json_headers(),
        lambda world, body: json_headers(**{"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET + "x"}),
    ),
    refusal=401,
    text=lambda world, text, transport_id: as_json(telegram_update(world, text, transport_id)),
    replies=telegram_replies,
    ignored=lambda world: as_json(telegram_update(world, "xin chao", "group-1", chat_type="group")),
)


def zalo_event(text: str, transport_id: str, *, chat_type: str = "PRIVATE") -> dict[str, Any]:
    chat_id = ZALO_USER if chat_type == "PRIVATE" else "g-" + ZALO_USER
    message = {
        "from": {"id": ZALO_USER, "display_name": "Mai", "is_bot": False},
        "chat": {"id": chat_id, "chat_type": chat_type},
        "message_id": transport_id,
        "date": 1767582000000,
        "text": text,
    }
    return {"ok": True, "result": {"event_name": "message.text.received", "message": message}}


async def zalo_replies(world: World, response: httpx.Response) -> list[str]:
    await drain(world.services)
    return [text for chat, text in world.zalo.bot_sent if chat == ZALO_USER]


ZALO_BOT = Door(
    name="zalo",
    path="/zalo/webhook",
    fake="zalo",
    settings=lambda zalo: {
        "zalo_bot_token": SecretStr(zalo.bot_token),
        "zalo_bot_webhook_secret": SecretStr(ZALO_SECRET),
        "zalo_bot_api_url": zalo.url,
    },
    sign=lambda world, body: json_headers(**{"X-Bot-Api-Secret-Token": ZALO_SECRET}),
    forged=(
        lambda world, body: json_headers(),
        lambda world, body: json_headers(**{"X-Bot-Api-Secret-Token": ZALO_SECRET.upper()}),
    ),
    refusal=401,
    text=lambda world, text, transport_id: as_json(zalo_event(text, transport_id)),
    replies=zalo_replies,
    ignored=lambda world: as_json(zalo_event("xin chao", "group-1", chat_type="GROUP")),
)


def oa_event(world: World, event: str, **message: str) -> dict[str, Any]:
    return {
        "app_id": world.zalo.app_id,
        "user_id_by_app": "app-scoped-" + ZALO_USER,
        "event_name": event,
        "timestamp": str(int(world.clock.now().timestamp() * 1000)),
        "sender": {"id": ZALO_USER},
        "recipient": {"id": "oa-1234"},
        "message": message,
    }


def oa_signed(world: World, body: bytes, key: str = OA_KEY) -> dict[str, str]:
    """Signed as Zalo signs: app id, raw body and the body's own timestamp, with the OA's secret key."""
    try:
        timestamp = str(json.loads(body).get("timestamp"))
    except (ValueError, AttributeError):
        timestamp = "0"
    return json_headers(**{"X-ZEvent-Signature": signature(world.zalo.app_id, body, timestamp, key)})


async def oa_replies(world: World, response: httpx.Response) -> list[str]:
    await drain(world.services)
    return [text for user, text in world.zalo.oa_sent if user == ZALO_USER]


ZALO_OA = Door(
    name="zalo_oa",
    path="/zalo-oa/webhook",
    fake="zalo",
    settings=lambda zalo: {
        "zalo_oa_app_id": zalo.app_id,
        "zalo_oa_secret_key": SecretStr(OA_KEY),
        "zalo_oa_app_secret": SecretStr(zalo.app_secret),
        "zalo_oa_access_token": SecretStr("access-0"),
        "zalo_oa_refresh_token": SecretStr("refresh-0"),
        "zalo_oa_api_url": zalo.url,
        "zalo_oa_oauth_url": zalo.url,
    },
    sign=oa_signed,
    forged=(
        lambda world, body: json_headers(),
        lambda world, body: oa_signed(world, body, key="not-the-oa-secret-key"),
        lambda world, body: json_headers(**{"X-ZEvent-Signature": "mac=" + "0" * 64}),
    ),
    refusal=401,
    text=lambda world, text, transport_id: as_json(
        oa_event(world, "user_send_text", msg_id=transport_id, text=text)
    ),
    replies=oa_replies,
    ignored=lambda world: as_json(oa_event(world, "follow")),
)


def call_sid(transport_id: str) -> str:
    return "CA" + hashlib.sha256(transport_id.encode()).hexdigest()[:32]


def twilio_form(transport_id: str, **extra: str) -> bytes:
    """The form Twilio posts for an inbound call (its CallSid made from ``transport_id``)."""
    form = {"AccountSid": "AC" + "0" * 32, "CallSid": call_sid(transport_id), "CallStatus": "ringing",
            "Direction": "inbound", "From": CALLER, "Caller": CALLER, "To": "+842873001234", **extra}  # fmt: skip
    return urlencode(form).encode()


def twilio_signed(path: str, body: bytes, token: str = TWILIO_TOKEN) -> dict[str, str]:
    """Signed as Twilio signs: the public URL and the sorted form parameters, with the auth token."""
    try:
        form = dict(parse_qsl(body.decode(), keep_blank_values=True))
    except UnicodeDecodeError:
        form = {}
    mac = RequestValidator(token).compute_signature(PUBLIC_URL + path, form)
    return {"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": mac}


async def twiml_said(world: World, response: httpx.Response) -> list[str]:
    return parse(response.text).said


PHONE = Door(
    name="phone",
    path="/ivr/voice",
    settings=lambda fake: {
        "twilio_account_sid": "AC" + "0" * 32,
        "twilio_auth_token": SecretStr(TWILIO_TOKEN),
        "twilio_caller_id": "+842873001234",
        "oncall_numbers": [SecretStr("+84911111111")],
    },
    answers_in_response=True,
    sign=lambda world, body: twilio_signed("/ivr/voice", body),
    forged=(
        lambda world, body: {"Content-Type": "application/x-www-form-urlencoded"},
        lambda world, body: twilio_signed("/ivr/voice", body, token="not-the-auth-token-0000000000000"),
        lambda world, body: twilio_signed("/ivr/key", body),  # signed for another address
    ),
    refusal=403,  # ivr/routes.py: not signed by Twilio for this address
    text=lambda world, text, transport_id: twilio_form(transport_id),
    replies=twiml_said,
    not_json=b"CallSid=CA\xff\xfe",  # not a UTF-8 form
    texts=False,
)


def messenger_page(*items: dict[str, Any], object_: str = "page") -> bytes:
    entry = {"id": "1029384756", "time": 1767582000000, "messaging": list(items)}
    return as_json({"object": object_, "entry": [entry]})


def messenger_text(text: str, transport_id: str) -> dict[str, Any]:
    person = {"sender": {"id": MESSENGER_PSID}, "recipient": {"id": "1029384756"}, "timestamp": 1767582000000}
    return person | {"message": {"mid": "m_" + transport_id, "text": text}}


def messenger_signed(world: World, body: bytes, secret: str = MESSENGER_SECRET) -> dict[str, str]:
    """Signed as Meta signs: HMAC-SHA256 of the raw body with the app secret."""
    mac = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return json_headers(**{"X-Hub-Signature-256": f"sha256={mac}"})


async def messenger_replies(world: World, response: httpx.Response) -> list[str]:
    await drain(world.services)
    return world.graph.texts(MESSENGER_PSID)


MESSENGER = Door(
    name="messenger",
    path="/messenger/webhook",
    fake="graph",
    settings=lambda graph: {
        "messenger_page_token": SecretStr(graph.page_token),
        "messenger_app_secret": SecretStr(MESSENGER_SECRET),
        "messenger_verify_token": SecretStr("messenger-contract-verify-token"),
        "messenger_api_url": graph.url,
        "messenger_api_version": graph.version,
    },
    sign=messenger_signed,
    forged=(
        lambda world, body: json_headers(),
        lambda world, body: messenger_signed(world, body, secret="not-the-app-secret"),
        lambda world, body: json_headers(**{"X-Hub-Signature": "sha1=" + "0" * 40}),  # the old header alone
    ),
    refusal=401,
    text=lambda world, text, transport_id: messenger_page(messenger_text(text, transport_id)),
    replies=messenger_replies,
    # a read receipt: the person saw our message (nothing to answer)
    ignored=lambda world: messenger_page(
        {"sender": {"id": MESSENGER_PSID}, "recipient": {"id": "1029384756"}, "read": {"watermark": 1}}
    ),
)

DOORS = [WEBCHAT, TELEGRAM, ZALO_BOT, ZALO_OA, PHONE, MESSENGER]
by_door = pytest.mark.parametrize("door", DOORS, ids=[door.name for door in DOORS])
typing_doors = [door for door in DOORS if door.texts]
by_typing_door = pytest.mark.parametrize("door", typing_doors, ids=[door.name for door in typing_doors])


# -- fixtures -----------------------------------------------------------------------------------------------------


@pytest.fixture
def fakes(request: pytest.FixtureRequest) -> dict[str, Any]:
    """The fakes the doors need, by fixture name (each started once, shared by the doors that use it)."""
    return {door.fake: request.getfixturevalue(door.fake) for door in DOORS if door.fake}


@pytest.fixture
def settings(settings: Settings, fakes: dict[str, Any]) -> Settings:
    """Every channel on, each against its fake; the public URL is what Twilio signs."""
    update: dict[str, Any] = {"public_url": PUBLIC_URL}
    for door in DOORS:
        update.update(door.settings(fakes.get(door.fake) if door.fake else None))
    return settings.model_copy(update=update)


@pytest.fixture
async def world(
    client: httpx.AsyncClient, services: Services, clock: FrozenClock, fakes: dict[str, Any]
) -> AsyncIterator[World]:
    built = World(client, services, clock, fakes)
    yield built
    for response in built.responses:
        assert response.status_code < 500, (response.request.url, response.status_code, response.text)


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.DEBUG)
    return caplog


def no_secrets_in(logs: pytest.LogCaptureFixture, world: World) -> None:
    for record in logs.records:
        line = record.getMessage()
        leaked = [secret for secret in world.secrets if secret in line]
        assert not leaked, f"{record.name}: {line!r} shows {leaked}"


# -- the contract, for every door ----------------------------------------------------------------------------------


@by_door
async def test_a_wrong_secret_or_signature_is_refused_and_writes_nothing(world: World, door: Door) -> None:
    body = door.text(world, "cuu em voi", "forged-1")
    for forge in door.forged:
        response = await door.post(world, body, forge(world, body))
        assert response.status_code == door.refusal, (response.status_code, response.text)
    await drain(world.services)
    await assert_nothing_written(world.services)
    if not door.answers_in_response:
        assert await door.replies(world, response) == [], "nothing was sent"


@by_door
async def test_a_body_that_is_not_json_or_not_a_form_gets_400_and_writes_nothing(
    world: World, door: Door
) -> None:
    response = await door.post(world, door.not_json)
    assert response.status_code == 400, response.text
    await assert_nothing_written(world.services)


@by_door
async def test_a_body_over_the_limit_gets_413_and_writes_nothing(world: World, door: Door) -> None:
    limit = world.services.settings.max_body_bytes
    declared = await door.post(world, b"x" * (limit + 1))
    assert declared.status_code == 413, declared.text

    async def twenty_megabytes() -> AsyncIterator[bytes]:  # sent without a length: refused as it is read
        for _ in range(20):
            yield b"x" * (1024 * 1024)
        yield b"x"

    body = door.text(world, "PrEP là gì", "big-1")
    streamed = await world.client.post(door.path, content=twenty_megabytes(), headers=door.sign(world, body))
    world.responses.append(streamed)
    assert streamed.status_code == 413, streamed.text
    await assert_nothing_written(world.services)


@by_door
async def test_a_repeat_is_answered_once_and_stored_once(world: World, door: Door) -> None:
    body = door.text(world, "PrEP là gì", "repeat-1")
    first = await door.post(world, body)
    assert first.status_code in (200, 204), first.text
    answered = await door.replies(world, first)
    assert answered, "the person is answered"
    stored = await row_counts(world.services)
    again = await door.post(world, body)
    assert again.status_code in (200, 204), again.text
    # a push channel sent nothing more; one that answers in the response gave the same answer again
    assert await door.replies(world, again) == answered
    await assert_nothing_written(world.services, stored)


@pytest.mark.parametrize(
    "door", [door for door in DOORS if door.ignored], ids=[door.name for door in DOORS if door.ignored]
)
async def test_a_group_or_unhandled_update_is_ignored_with_200_and_a_log_line(
    world: World, door: Door, logs: pytest.LogCaptureFixture
) -> None:
    assert door.ignored is not None
    logs.clear()
    response = await door.post(world, door.ignored(world))
    assert response.status_code == 200, response.text
    await drain(world.services)
    await assert_nothing_written(world.services)
    # at debug level at least: a staff group's every line is such an update (bot/channels/telegram/staff.py)
    said = [r.getMessage() for r in logs.records if r.name.startswith("bot.") and "ignored" in r.getMessage()]
    assert said, "a log line says the update was ignored, and why"
    no_secrets_in(logs, world)


@by_typing_door
async def test_an_emoji_only_message_is_answered(world: World, door: Door) -> None:
    response = await door.post(world, door.text(world, "👍", "emoji-1"))
    assert response.status_code == 200, response.text
    assert await door.replies(world, response), "the person gets an answer"


@pytest.mark.parametrize("door", [pytest.param(d, id=d.name) for d in typing_doors])
async def test_an_emoji_only_message_is_not_told_it_is_not_text(world: World, door: Door) -> None:
    response = await door.post(world, door.text(world, "👍", "emoji-2"))
    replies = await door.replies(world, response)
    assert replies and not any(marker in text for text in replies for marker in ONLY_TEXT), replies


# -- what the replay of real payloads found, channel by channel (issue 16) ---------------------------------------


@dataclass(frozen=True)
class Finding:
    """One behaviour the replay of other projects' payloads showed: the door, and the check."""

    door: Door
    label: str
    check: Callable[[World, pytest.LogCaptureFixture], Awaitable[None]]
    fixed_on_main: bool = True


async def oa_unsigned_verification_gets_200(world: World, logs: pytest.LogCaptureFixture) -> None:
    """Zalo checks a webhook URL with an unsigned ``{}`` and expects 200 (two public integrations)."""
    response = await ZALO_OA.post(world, b"{}", json_headers())
    assert response.status_code == 200, response.text
    await assert_nothing_written(world.services)


async def oa_user_withdraw_deletes_the_persons_data(world: World, logs: pytest.LogCaptureFixture) -> None:
    """``user_withdraw``: the person asks the OA's partners to delete their data."""
    assert (await ZALO_OA.post(world, ZALO_OA.text(world, "PrEP là gì", "w-1"))).status_code == 200
    assert await count(world.services, Conversation) == 1
    body = as_json(oa_event(world, "user_withdraw"))
    assert (await ZALO_OA.post(world, body)).status_code == 200
    await drain(world.services)
    assert await count(world.services, Conversation) == 0, "the person's conversation is deleted"


async def telegram_unreadable_update_is_logged(world: World, logs: pytest.LogCaptureFixture) -> None:
    """An older shape aiogram cannot read (``from`` without ``is_bot``): 200, dropped, and said why."""
    update = telegram_update(world, "xin chao", "old-1")
    del update["message"]["from"]["is_bot"]
    logs.clear()
    response = await TELEGRAM.post(world, as_json(update))
    assert response.status_code == 200, response.text
    assert [r for r in logs.records if r.name.startswith("bot.") and r.levelno >= logging.INFO], "said why"
    no_secrets_in(logs, world)


async def telegram_tap_without_message_is_answered(world: World, logs: pytest.LogCaptureFixture) -> None:
    """A button tap whose message is gone (too old): ``answerCallbackQuery`` still stops the spinner."""
    update = world.telegram.callback_update(TELEGRAM_CHAT, "menu", message_id=1)
    del update["callback_query"]["message"]
    response = await TELEGRAM.post(world, as_json(update))
    assert response.status_code == 200, response.text
    await drain(world.services)
    assert world.telegram.calls_of("answerCallbackQuery"), "the button stops spinning"


async def phone_speech_is_ignored_where_only_keys_are_asked_for(
    world: World, logs: pytest.LogCaptureFixture
) -> None:
    """The menu's ``<Gather>`` listens for keys only: a ``SpeechResult`` sent along is not the caller's words."""
    heard = parse((await PHONE.post(world, PHONE.text(world, "", "speech-1"))).text)
    gather = heard.find("Gather")
    assert gather is not None and "speech" not in gather.attrib.get("input", "dtmf")
    path = gather.attrib["action"].removeprefix(PUBLIC_URL)
    before = await row_counts(world.services)
    body = twilio_form("speech-1", SpeechResult="cuu em voi", CallStatus="in-progress")
    response = await world.client.post(path, content=body, headers=twilio_signed(path, body))
    world.responses.append(response)
    assert response.status_code == 200, response.text
    await assert_nothing_written(world.services, before)


async def phone_status_of_an_unknown_call_is_not_counted(
    world: World, logs: pytest.LogCaptureFixture
) -> None:
    """A status callback for a call the service never answered (an outbound call) is no abandoned call."""
    body = twilio_form("never-seen-1", CallStatus="no-answer", Direction="outbound-api")
    response = await world.client.post(
        "/ivr/status", content=body, headers=twilio_signed("/ivr/status", body)
    )
    world.responses.append(response)
    assert response.status_code in (200, 204), response.text
    assert await count(world.services, Contact) == 0, "no call is counted"


FINDINGS = [
    Finding(ZALO_OA, "unsigned-verification-gets-200", oa_unsigned_verification_gets_200),
    Finding(ZALO_OA, "user-withdraw-deletes-data", oa_user_withdraw_deletes_the_persons_data),
    Finding(TELEGRAM, "unreadable-update-logged", telegram_unreadable_update_is_logged),
    Finding(TELEGRAM, "tap-without-message-answered", telegram_tap_without_message_is_answered),
    Finding(PHONE, "speech-ignored-for-keys", phone_speech_is_ignored_where_only_keys_are_asked_for),
    Finding(PHONE, "unknown-call-status-not-counted", phone_status_of_an_unknown_call_is_not_counted),
]  # fmt: skip


@pytest.mark.parametrize(
    "finding",
    [
        pytest.param(f, id=f"{f.door.name}-{f.label}", marks=() if f.fixed_on_main else (EDGES,))
        for f in FINDINGS
    ],
)
async def test_what_the_replay_of_real_payloads_found(
    world: World, finding: Finding, logs: pytest.LogCaptureFixture
) -> None:
    await finding.check(world, logs)
