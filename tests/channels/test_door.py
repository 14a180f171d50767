"""Channels behind one narrow door (issue 16): what a channel is given, and who wires it.

* no module under ``bot/channels``, ``ivr`` or ``bot/escalation`` imports the runtime (read from the
  source, so a lazy import inside a function counts too);
* the registry imports no channel, and statistics read every channel's label through it without loading
  one (checked in a fresh interpreter);
* the engine answers what channels used to query: the conversation's language comes back in the outcome
  (a repeat included; None once the conversation is deleted) and through ``Engine.locale_of``.
"""

from __future__ import annotations

import ast
import secrets
import subprocess
import sys
from pathlib import Path

import httpx

from bot.channels.registry import CHANNEL_FACTORIES, PAGER_FACTORIES, channel_labels
from bot.messages import InboundMessage
from bot.runtime import Services
from bot.settings import ROOT

DOORED = ("bot/channels", "ivr", "bot/escalation")


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def test_no_channel_phone_line_or_escalation_module_imports_the_runtime() -> None:
    offenders = [
        str(path.relative_to(ROOT))
        for folder in DOORED
        for path in sorted((ROOT / folder).rglob("*.py"))
        if any(name == "bot.runtime" or name.startswith("bot.runtime.") for name in _imports(path))
    ]
    assert offenders == [], "a channel gets a Door from the runtime; it never imports the runtime"


def test_the_registry_imports_no_channel_and_no_runtime() -> None:
    imported = _imports(ROOT / "bot" / "channels" / "registry.py")
    assert {name for name in imported if name.startswith(("bot.", "ivr"))} == {
        "bot.settings",
        "bot.settings.Settings",
    }


def test_every_channel_declares_its_statistics_label_in_its_registry_line() -> None:
    labels = channel_labels()
    assert list(labels)[: len(CHANNEL_FACTORIES)] == [entry.name for entry in CHANNEL_FACTORIES]
    assert all(entry.label is not None for entry in CHANNEL_FACTORIES)
    assert labels["webchat"] == ("Chat trên web", "Web chat")
    assert labels["phone"] == ("Điện thoại", "Phone")
    assert {entry.name for entry in PAGER_FACTORIES} == {"telegram", "sms", "voice"}


def test_statistics_label_channels_without_importing_one() -> None:
    probe = (
        "import sys\n"
        "from bot.stats.labels import Words\n"
        "from bot.stats.figures import CHANNEL_ORDER\n"
        "print(Words(locale='vi')('phone'), Words(locale='en')('zalo_oa'), ','.join(CHANNEL_ORDER))\n"
        "print(sorted(m for m in sys.modules if m.startswith(('bot.channels.', 'ivr', 'aiogram'))))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=120, check=True
    )
    words, modules = done.stdout.splitlines()
    assert words == "Điện thoại Zalo OA webchat,telegram,zalo,zalo_oa,phone,messenger,terminal"
    assert modules == "['bot.channels.registry']"


async def test_the_outcome_carries_the_conversations_language_a_repeat_too_and_none_once_deleted(
    client: httpx.AsyncClient, services: Services
) -> None:
    engine = services.engine
    person = secrets.token_hex(16)

    def message(transport_id: str, **fields: str) -> InboundMessage:
        return InboundMessage("webchat", person, transport_id=f"{person}:{transport_id}", **fields)

    english = await engine.handle(message("1", text="what is the fine for selling sex?", kind="text"))
    assert english.locale == "en"
    repeat = await engine.handle(message("1", text="what is the fine for selling sex?", kind="text"))
    assert repeat.duplicate and repeat.locale == "en", "a repeat says the language too"
    assert await engine.locale_of("webchat", person) == "en"
    assert await engine.locale_of("webchat", secrets.token_hex(16)) is None, "nobody: no language"

    await engine.handle(message("2", text="xóa", kind="text"))
    deleted = await engine.handle(message("3", choice="privacy.confirm:yes", kind="choice"))
    assert deleted.conversation_id is None and deleted.locale is None
    assert await engine.locale_of("webchat", person) is None
