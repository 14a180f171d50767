"""The channel registry builds a channel, and imports its library, only when its settings are given.

aiogram alone takes seconds to import; a service with only the web chat must start without it.
Checked in a fresh interpreter, since this test process has imported everything already.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import SecretStr

from bot.channels.registry import PAGER_FACTORIES
from bot.settings import ROOT, Settings
from tests.conftest import SECRET
from tests.nlu.test_cache import small_knowledge

HEAVY = ("aiogram", "twilio.rest", "matplotlib", "openpyxl")
PROBE = f"""
import sys
from pathlib import Path
from bot.nlu import build_nlu
from bot.runtime import build_services
from bot.settings import Settings
from bot.web.app import create_app

nlu = build_nlu(Path(sys.argv[1]))  # a small model: this is about imports, not answers
app = create_app(services=build_services(Settings(_env_file=None), nlu=nlu))
print(sorted(app.state.services.channels))
print(",".join(name for name in {HEAVY!r} if name in sys.modules))
"""


def probe(tmp_path: Path, script: str, settings: dict[str, str] | None = None) -> tuple[str, str]:
    """Run ``script`` (PROBE or a variant) in a fresh interpreter with only ``settings`` given; return
    its two lines: what was built, and which heavy libraries it had imported."""
    env = {
        "PATH": "/usr/bin:/bin",
        "HOTLINE_ENV": "test",
        "HOTLINE_SECRET_KEY": SECRET,
        "HOTLINE_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'hotline.db'}",
        **(settings or {}),
    }
    knowledge = small_knowledge(tmp_path / "knowledge")
    done = subprocess.run(
        [sys.executable, "-c", script, str(knowledge)],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    built, imported = done.stdout.splitlines()
    return built, imported


@pytest.mark.slow
def test_a_service_with_no_channel_configured_imports_no_channel_library(tmp_path: Path) -> None:
    channels, imported = probe(tmp_path, PROBE)
    assert channels == "['webchat']"
    assert imported == "", f"imported without being configured: {imported}"


@pytest.mark.slow
def test_serve_builds_telegram_and_twilio_pagers_after_the_start_without_importing_them_first(
    tmp_path: Path,
) -> None:
    script = PROBE.replace("nlu=nlu))", "nlu=nlu, background=True))").replace(
        "print(sorted(app.state.services.channels))",
        "print(sorted(app.state.services.channels), sorted(app.state.services.pagers))",
    )
    names, imported = probe(
        tmp_path,
        script,
        {
            "HOTLINE_TELEGRAM_TOKEN": "424242:AAtest-fake-token_0123456789",
            "HOTLINE_TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
            "HOTLINE_TWILIO_AUTH_TOKEN": "x" * 32,
            "HOTLINE_TWILIO_CALLER_ID": "+15550000000",
        },
    )
    assert names == "['phone', 'telegram', 'webchat'] ['sms', 'telegram']", "stand-ins until they are built"
    assert imported == "", f"imported before the server listens: {imported}"


@pytest.mark.parametrize("route", ["sms", "voice", "both"])
def test_a_background_pagers_stand_in_is_there_exactly_when_the_pager_will_be(
    settings: Settings, route: str
) -> None:
    settings = settings.model_copy(
        update={
            "twilio_account_sid": "AC" + "0" * 32,
            "twilio_auth_token": SecretStr("x" * 32),
            "twilio_caller_id": "+15550000000",
            "page_phone_route": route,
        }
    )
    for entry in PAGER_FACTORIES:
        if entry.name in ("sms", "voice"):
            assert entry.wanted(settings) == (entry.load()(settings) is not None), entry.name


@pytest.mark.slow
def test_a_phone_line_and_its_pagers_import_no_rest_client_until_they_call(tmp_path: Path) -> None:
    """The phone line answers with TwiML alone: twilio's REST client (and aiohttp under it) is imported
    only when a page or a call-back is placed, and httpx only to read recorded prompts' manifest."""
    script = PROBE.replace(repr(HEAVY), repr((*HEAVY, "aiohttp", "httpx"))).replace(
        "print(sorted(app.state.services.channels))",
        "print(sorted(app.state.services.channels), sorted(app.state.services.pagers))",
    )
    names, imported = probe(
        tmp_path,
        script,
        {
            "HOTLINE_TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
            "HOTLINE_TWILIO_AUTH_TOKEN": "x" * 32,
            "HOTLINE_TWILIO_CALLER_ID": "+15550000000",
            "HOTLINE_PAGE_PHONE_ROUTE": "both",
        },
    )
    assert names == "['phone', 'webchat'] ['sms', 'voice']", "built at once (not in the background)"
    assert imported == "", f"imported before any call: {imported}"
