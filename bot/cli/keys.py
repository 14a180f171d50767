"""``hotline rotate-key``: a new key for one purpose (bot/store/crypto.py, bot/store/rotation.py)."""

from __future__ import annotations

import asyncio

import click

from bot.cli.common import load_settings
from bot.logs import setup_logging

PSEUDONYMS_REFUSED = (
    "The pseudonym keys (user keys, statistics, de-duplication and flood hashes) are not rotated: every "
    "person would get a new key, so their conversation, web chat session and requests to delete their "
    "data would no longer reach what is stored, and unique counts would count them twice. If the root "
    "secret (HOTLINE_SECRET_KEY) leaked, see deploy/README.md, 'Keys'."
)


@click.command("rotate-key")
@click.argument("purpose", type=click.Choice(["encryption", "console", "pseudonyms"]))
@click.option("--batch-size", default=200, show_default=True, help="Rows re-encrypted per transaction.")
@click.pass_context
def rotate_key(ctx: click.Context, purpose: str, batch_size: int) -> None:
    """Make a new key for PURPOSE the one in use, while the service runs.

    encryption: re-encrypts every stored transcript, address and payload under a new key, in small
    batches, then stops reading the old one. Every process learns of it within
    HOTLINE_KEY_REFRESH_SECONDS; the command waits twice that before retiring the old key. Interrupted,
    run it again: it resumes.

    console: every console session ends (everyone logs in again); nothing else changes.
    """
    if purpose == "pseudonyms":
        raise click.ClickException(PSEUDONYMS_REFUSED)
    settings = load_settings(database_url=ctx.find_root().obj.get("database_url"))
    setup_logging(settings.log_level, settings.log_format)
    from bot.clock import SystemClock
    from bot.store.db import make_engine, make_sessionmaker
    from bot.store.keyring import load_crypto
    from bot.store.rotation import RotationError, rotate_console, rotate_encryption

    async def run() -> None:
        engine = make_engine(settings.database_url)
        try:
            sessionmaker = make_sessionmaker(engine)
            crypto = await load_crypto(settings.secret, sessionmaker)
            if purpose == "console":
                version = await rotate_console(sessionmaker, crypto, SystemClock())
                click.echo(
                    f"console key version {version} in use: every console session ends within "
                    f"{settings.key_refresh_seconds:g} s"
                )
                return
            done = await rotate_encryption(
                sessionmaker,
                crypto,
                SystemClock(),
                # a refresh may start just before the switch and take a moment: twice the interval
                settle_seconds=2 * settings.key_refresh_seconds + 1,
                batch_size=batch_size,
                echo=click.echo,
            )
            if done.unreadable:
                click.echo(f"{done.unreadable} values could not be read with any key (left as they were)")
        finally:
            await engine.dispose()

    try:
        asyncio.run(run())
    except RotationError as exc:
        raise click.ClickException(str(exc)) from exc
