"""``hotline doctor``: check every configured part for real and say, in plain words, what to fix."""

from __future__ import annotations

import asyncio
import sys

import click
from pydantic import ValidationError

from bot.settings import Settings


@click.command("doctor")
@click.option("--timeout", default=5.0, show_default=True, type=click.FloatRange(min=0.1),
              help="Seconds to wait for each platform's answer.")  # fmt: skip
@click.pass_context
def doctor_command(ctx: click.Context, timeout: float) -> None:
    """Check the channels, the public URL, the key, the database, content, model and rota.

    Prints each check as ok, problem (with how to fix it) or skipped (not configured); exits 1 if any
    problem was found. Run it after deploying, and whenever something seems wrong.
    """
    from bot.doctor import Context, all_checks, render, run_checks
    from bot.doctor.report import Status

    database_url = (ctx.find_root().obj or {}).get("database_url")
    try:
        # Not bot.cli.common.load_settings: a bad secret key is one of the findings, not a reason to stop.
        settings = Settings(**({"database_url": database_url} if database_url else {}))
    except ValidationError as exc:
        raise click.ClickException(f"the settings have mistakes:\n{exc}") from None
    findings = asyncio.run(run_checks(all_checks(), Context(settings, timeout=timeout)))
    for line in render(findings):
        click.echo(line)
    sys.exit(1 if any(f.status is Status.PROBLEM for f in findings) else 0)
