"""Running ``hotline ...`` in-process with click's CliRunner against a test database."""

from __future__ import annotations

import asyncio

from click.testing import CliRunner, Result

from bot.cli import main
from tests.conftest import SECRET

ENV = {
    "HOTLINE_SECRET_KEY": SECRET,
    "HOTLINE_ENV": "test",
    "HOTLINE_TIMEZONE": None,  # the defaults: Asia/Ho_Chi_Minh, and 5 for the smallest count shown
    "HOTLINE_STATS_MIN_CELL": None,
}


def hotline(database_url: str, *args: str, exit_code: int = 0) -> Result:
    result = CliRunner().invoke(main, ["--database-url", database_url, *args], env=ENV)
    assert result.exit_code == exit_code, (result.output, result.exception)
    return result


async def hotline_async(database_url: str, *args: str, exit_code: int = 0) -> Result:
    """The same, from an async test (the command runs its own event loop, so in a thread)."""
    return await asyncio.to_thread(hotline, database_url, *args, exit_code=exit_code)
