"""What a check finds, how checks are run (side by side, each with a time limit) and how it prints."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from bot.clock import Clock, SystemClock
from bot.settings import Settings

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

log = logging.getLogger(__name__)


class Status(StrEnum):
    OK = "ok"
    PROBLEM = "problem"
    SKIPPED = "skipped"


@dataclass(frozen=True)
class Finding:
    """One line of the report: what was checked, its status, what was seen, and how to fix a problem.

    Never carries a token, a secret, a person's id or a counsellor's phone number or Telegram id.
    """

    what: str
    status: Status
    detail: str
    fix: str = ""


def ok(what: str, detail: str) -> Finding:
    return Finding(what, Status.OK, detail)


def problem(what: str, detail: str, fix: str = "") -> Finding:
    return Finding(what, Status.PROBLEM, detail, fix)


def skipped(what: str, detail: str = "not configured") -> Finding:
    return Finding(what, Status.SKIPPED, detail)


@dataclass
class Context:
    """What every check may use: the settings, a time limit per network call, the clock, and one
    database engine shared by the checks that read the database (made on first use)."""

    settings: Settings
    timeout: float = 5.0
    clock: Clock = field(default_factory=SystemClock)
    _engine: AsyncEngine | None = None

    def now(self) -> datetime:
        return self.clock.now()

    def engine(self) -> AsyncEngine:
        if self._engine is None:
            from bot.store.db import make_engine

            self._engine = make_engine(self.settings.database_url)
        return self._engine

    async def close(self) -> None:
        if self._engine is not None:
            await self._engine.dispose()


Check = Callable[[Context], Awaitable[list[Finding]]]

# A check makes at most a few calls in a row (Telegram: getMe then getWebhookInfo); past this many time
# limits it is reported as not answering, whatever it was waiting for.
CALLS_PER_CHECK = 3


async def run_checks(checks: Sequence[tuple[str, Check]], context: Context) -> list[Finding]:
    """Run every check, one after the other, each within its time limit; their findings in order.

    A check that raises or runs out of time becomes one problem; the others go on. One after the other,
    not side by side: a check's CPU work (loading the content) would otherwise eat another's time limit.
    """
    findings: list[Finding] = []
    try:
        for what, check in checks:
            findings += await _run_one(what, check, context)
    finally:
        await context.close()
    return findings


async def _run_one(what: str, check: Check, context: Context) -> list[Finding]:
    limit = context.timeout * CALLS_PER_CHECK
    try:
        async with asyncio.timeout(limit):
            return await check(context)
    except TimeoutError:
        return [problem(what, f"no answer within {limit:g} s", "check the network and that it is up")]
    except Exception as exc:  # one broken check never hides the others; the type only (no secrets)
        log.debug("doctor: the %s check failed", what, exc_info=True)
        return [problem(what, f"the check itself failed ({type(exc).__name__})")]


def render(findings: Sequence[Finding]) -> list[str]:
    """The report's lines: status, what, detail; a problem's fix on the line below; a summary last."""
    width = max(len(status.value) for status in Status) + 1
    lines: list[str] = []
    for finding in findings:
        lines.append(f"{finding.status.value:<{width}} {finding.what}: {finding.detail}")
        if finding.status is Status.PROBLEM and finding.fix:
            lines.append(f"{'':<{width}}   fix: {finding.fix}")
    problems = sum(1 for finding in findings if finding.status is Status.PROBLEM)
    lines.append(f"{problems} problem(s) found." if problems else "Everything checked is ok.")
    return lines
