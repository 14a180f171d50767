"""Everything ``hotline doctor`` checks, configured against the fakes on loopback and ready to pass:
Telegram with its webhook set to our URL, the Zalo Bot and OA, Messenger, Twilio with the number's voice URL set,
a public URL that answers ``/healthz``, a migrated database and a rota covering the next day."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from bot.clock import FrozenClock
from bot.doctor import Context, Finding, all_checks, run_checks
from bot.nlu import NLU
from bot.settings import ROOT, Settings
from bot.store.crypto import Crypto
from bot.store.db import make_engine, make_sessionmaker
from bot.store.keyring import load_crypto
from bot.store.models import Counsellor, Shift
from tests.conftest import SECRET
from tests.fakes.base import FakeServer
from tests.fakes.graph_api import FakeGraph
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.twilio_api import FakeTwilio
from tests.fakes.zalo_api import FakeZalo

WEBHOOK_SECRET = "doctor_webhook-secret_0123456789"
TWILIO_SID = "AC" + "0" * 32
TWILIO_TOKEN = "twilio-auth-token-for-tests-0123456789"
HOTLINE_NUMBER = "+842873001234"
NOW = datetime(2026, 1, 5, 3, 0, tzinfo=UTC)


@pytest.fixture
def telegram(telegram: FakeTelegram, public: str) -> FakeTelegram:
    telegram.webhook = {"url": public + "/telegram/webhook", "secret_token": WEBHOOK_SECRET}
    return telegram


@pytest.fixture
def twilio(twilio: FakeTwilio, public: str) -> FakeTwilio:
    twilio.credentials = (TWILIO_SID, TWILIO_TOKEN)
    twilio.numbers = {HOTLINE_NUMBER: public + "/ivr/voice"}
    return twilio


class PublicUrl(FakeServer):
    """The service's public URL as the world sees it: answers ``/healthz`` as the service does."""

    def routes(self, app: web.Application) -> None:
        app.router.add_get("/healthz", self._healthz)

    async def _healthz(self, request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})


@pytest.fixture
def public() -> Iterator[str]:
    """The public URL: a loopback server answering ``/healthz`` as the service does."""
    with PublicUrl() as fake:
        yield fake.url


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(NOW)


@pytest.fixture
def configured(
    database_url: str,
    tmp_path: Path,
    public: str,
    telegram: FakeTelegram,
    zalo: FakeZalo,
    graph: FakeGraph,
    twilio: FakeTwilio,
    nlu: NLU,  # the model trained for the current content (var/models), as `make test` leaves it
) -> Callable[..., Settings]:
    """Settings for everything, pointed at the fakes; keyword arguments change some."""

    def make(**changes: Any) -> Settings:
        values: dict[str, Any] = {
            "env": "test",
            "database_url": database_url,
            "secret_key": SECRET,
            "secret_key_file": tmp_path / "secret",
            "public_url": public,
            "model_dir": ROOT / "var" / "models",
            "telegram_token": telegram.token,
            "telegram_api_url": telegram.url,
            "telegram_webhook_secret": WEBHOOK_SECRET,
            "telegram_staff_chat_id": -1001234567890,
            "zalo_bot_token": zalo.bot_token,
            "zalo_bot_api_url": zalo.url,
            "zalo_oa_app_id": zalo.app_id,
            "zalo_oa_app_secret": zalo.app_secret,
            "zalo_oa_access_token": "access-0",
            "zalo_oa_refresh_token": "refresh-0",
            "zalo_oa_api_url": zalo.url,
            "zalo_oa_oauth_url": zalo.url,
            "messenger_page_token": graph.page_token,
            "messenger_app_secret": "messenger-app-secret",
            "messenger_verify_token": "messenger-verify-token",
            "messenger_api_url": graph.url,
            "messenger_api_version": graph.version,
            "twilio_account_sid": TWILIO_SID,
            "twilio_auth_token": TWILIO_TOKEN,
            "twilio_api_url": twilio.url,
            "twilio_caller_id": HOTLINE_NUMBER,
        }
        values.update(changes)
        return Settings(_env_file=None, **values)  # type: ignore[call-arg]

    return make


@pytest.fixture
def add_shift(database_url: str) -> Callable[..., Any]:
    """Put a counsellor on call from ``start`` to ``end`` hours after NOW (with the routes given)."""

    async def add(
        name: str, start: float, end: float, *, telegram: str | None = "111", phone: str | None = None
    ) -> None:
        engine = make_engine(database_url)
        try:
            sessionmaker = make_sessionmaker(engine)
            crypto: Crypto = await load_crypto(SECRET.encode(), sessionmaker)
            async with sessionmaker() as session, session.begin():
                counsellor = Counsellor(
                    display_name=name,
                    telegram_chat_enc=crypto.encrypt(telegram) if telegram else None,
                    phone_enc=crypto.encrypt(phone) if phone else None,
                    active=True,
                    created_at=NOW,
                )
                session.add(counsellor)
                await session.flush()
                session.add(
                    Shift(
                        counsellor_id=counsellor.id,
                        starts_at=NOW + timedelta(hours=start),
                        ends_at=NOW + timedelta(hours=end),
                        position=0,
                    )
                )
        finally:
            await engine.dispose()

    return add


@pytest.fixture
def doctor(clock: FrozenClock) -> Callable[..., Any]:
    """Run every check with ``settings``; the findings by what they check."""

    async def run(settings: Settings) -> dict[str, Finding]:
        findings = await run_checks(all_checks(), Context(settings, timeout=3, clock=clock))
        by_what: dict[str, Finding] = {}
        for finding in findings:
            assert finding.what not in by_what, f"{finding.what} reported twice"
            by_what[finding.what] = finding
        return by_what

    return run
