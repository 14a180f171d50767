"""The channel registry builds a channel, and imports its library, only when its settings are given.

aiogram alone takes seconds to import; a service with only the web chat must start without it.
Checked in a fresh interpreter, since this test process has imported everything already.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bot.settings import ROOT
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


@pytest.mark.slow
def test_a_service_with_no_channel_configured_imports_no_channel_library(tmp_path: Path) -> None:
    env = {
        "PATH": "/usr/bin:/bin",
        "HOTLINE_ENV": "test",
        "HOTLINE_SECRET_KEY": SECRET,
        "HOTLINE_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'hotline.db'}",
    }
    knowledge = small_knowledge(tmp_path / "knowledge")
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(knowledge)],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    channels, imported = done.stdout.splitlines()
    assert channels == "['webchat']"
    assert imported == "", f"imported without being configured: {imported}"
