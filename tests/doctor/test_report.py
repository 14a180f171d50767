"""How ``hotline doctor`` runs its checks and prints them; the command's exit code."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from bot.cli import main
from bot.doctor import Context, Finding, render, run_checks
from bot.doctor.report import ok, problem, skipped
from bot.settings import Settings
from tests.doctor.conftest import NOW

Make = Callable[..., Any]


async def test_a_failing_or_hanging_check_never_stops_the_others(tmp_path: Path) -> None:
    async def fine(ctx: Context) -> list[Finding]:
        return [ok("fine", "yes")]

    async def broken(ctx: Context) -> list[Finding]:
        raise RuntimeError("token=do-not-print-me")

    async def hangs(ctx: Context) -> list[Finding]:
        await asyncio.Event().wait()
        return []

    settings = Settings(_env_file=None, env="test", secret_key_file=tmp_path / "s")  # type: ignore[call-arg]
    found = await run_checks(
        [("broken", broken), ("hangs", hangs), ("fine", fine)], Context(settings, timeout=0.05)
    )
    assert [(f.what, f.status.value) for f in found] == [
        ("broken", "problem"),
        ("hangs", "problem"),
        ("fine", "ok"),
    ]
    assert found[0].detail == "the check itself failed (RuntimeError)"  # the type only: no secret
    assert found[1].detail.startswith("no answer within")


def test_render() -> None:
    lines = render(
        [
            ok("database", "PostgreSQL answers"),
            problem("model", "not trained", "run `hotline train`"),
            skipped("Zalo OA"),
        ]
    )
    assert lines == [
        "ok       database: PostgreSQL answers",
        "problem  model: not trained",
        "           fix: run `hotline train`",
        "skipped  Zalo OA: not configured",
        "1 problem(s) found.",
    ]
    assert render([ok("database", "answers")])[-1] == "Everything checked is ok."


def _env(settings: Settings) -> dict[str, str]:
    """The settings as the environment would give them to `hotline doctor`."""
    env: dict[str, str] = {}
    for name, value in settings.model_dump().items():
        if value is None or isinstance(value, list | dict):
            continue
        if hasattr(value, "get_secret_value"):
            value = value.get_secret_value()
        env[f"HOTLINE_{name.upper()}"] = str(value)
    return env


async def test_command_exit_codes(configured: Make, add_shift: Make) -> None:
    # the command reads the wall clock: the rota is laid out around it
    hours = (datetime.now(UTC) - NOW).total_seconds() / 3600
    await add_shift("Minh", hours - 1, hours + 25)
    runner = CliRunner()

    good = await asyncio.to_thread(runner.invoke, main, ["doctor", "--timeout", "3"], env=_env(configured()))
    assert good.exit_code == 0, good.output
    assert good.output.splitlines()[-1] == "Everything checked is ok."
    assert "ok       Telegram token: the bot is @hotline_test_bot" in good.output

    bad = await asyncio.to_thread(
        runner.invoke, main, ["doctor"], env=_env(configured(secret_key="too-short", zalo_bot_token=None))
    )
    assert bad.exit_code == 1, bad.output
    assert "problem  secret key: HOTLINE_SECRET_KEY must be at least 32 characters long." in bad.output
    assert "skipped  Zalo Bot: not configured" in bad.output
    assert bad.output.splitlines()[-1] == "1 problem(s) found."
