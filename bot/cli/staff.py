"""``hotline staff ...`` and ``hotline rota ...``: accounts and the on-call rota from the command line."""

from __future__ import annotations

import asyncio
import sys
from datetime import date
from pathlib import Path

import click
from sqlalchemy import select

from bot.cli.common import load_settings
from bot.console.auth import hash_password
from bot.escalation.rota import (
    RotaError,
    RotaNeedsConfirmation,
    RotaResult,
    chain_at,
    import_rota,
    parse_rota,
    telegram_user_hash,
)
from bot.settings import Settings
from bot.store.crypto import Crypto
from bot.store.db import make_engine, make_sessionmaker
from bot.store.keyring import load_crypto
from bot.store.models import Counsellor, StaffAccount


def _settings() -> Settings:
    """Settings from the environment, with ``hotline --database-url`` when it was given."""
    root = click.get_current_context().find_root()
    return load_settings(database_url=(root.obj or {}).get("database_url"))


@click.group()
def staff() -> None:
    """Console accounts for counsellors, supervisors and moderators (bad-client alerts)."""


@staff.command("add")
@click.argument("username")
@click.option(
    "--role",
    type=click.Choice(["counsellor", "supervisor", "moderator"]),
    default="counsellor",
    show_default=True,
)
@click.option("--name", "display_name", help="The name people and colleagues see (default: the user name).")
@click.option("--telegram", help="The counsellor's numeric Telegram user id, for pages and takeovers.")
@click.option("--phone", help="A phone number for SMS or voice pages.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def staff_add(
    username: str, role: str, display_name: str | None, telegram: str | None, phone: str | None,
    password_stdin: bool,
) -> None:  # fmt: skip
    """Create a console account (a counsellor account is also a counsellor who can be paged)."""
    password = _read_password(password_stdin)
    settings = _settings()

    async def run() -> None:
        engine = make_engine(settings.database_url)
        try:
            crypto = await load_crypto(settings.secret, make_sessionmaker(engine))
            async with make_sessionmaker(engine)() as session, session.begin():
                exists = await session.scalar(
                    select(StaffAccount.id).where(StaffAccount.username == username)
                )
                if exists:
                    raise click.ClickException(f"the account {username!r} exists already")
                from bot.clock import SystemClock

                now = SystemClock().now()
                counsellor_id = None
                name = display_name or username
                counsellor = (
                    await session.execute(select(Counsellor).where(Counsellor.display_name == name))
                ).scalar_one_or_none()
                if counsellor is None and (role == "counsellor" or telegram or phone):
                    counsellor = Counsellor(display_name=name, active=True, created_at=now)
                    session.add(counsellor)
                if counsellor is not None and counsellor.id is not None:
                    _refuse_rebind(crypto, counsellor, telegram=telegram, phone=phone)
                if counsellor is not None:
                    if telegram:
                        counsellor.telegram_chat_enc = crypto.encrypt(telegram)
                        counsellor.telegram_user_hash = telegram_user_hash(crypto, telegram)
                    if phone:
                        counsellor.phone_enc = crypto.encrypt(phone)
                    await session.flush()
                    counsellor_id = counsellor.id
                session.add(
                    StaffAccount(
                        username=username,
                        password_hash=hash_password(password),
                        role=role,
                        counsellor_id=counsellor_id,
                        active=True,
                        created_at=now,
                    )
                )
        finally:
            await engine.dispose()

    asyncio.run(run())
    click.echo(f"account {username!r} ({role}) created")


def _refuse_rebind(
    crypto: Crypto, counsellor: Counsellor, *, telegram: str | None, phone: str | None
) -> None:
    """A new account for an existing counsellor may add a route they lack, never replace one they have
    (that would hand their pages and takeovers to someone else): the rota does that, with --rebind."""
    bound_elsewhere = (
        telegram
        and counsellor.telegram_user_hash
        and counsellor.telegram_user_hash != telegram_user_hash(crypto, telegram)
    ) or (phone and counsellor.phone_enc and crypto.decrypt(counsellor.phone_enc) != phone)
    if bound_elsewhere:
        raise click.ClickException(
            f"the counsellor {counsellor.display_name!r} already has another Telegram id or phone; "
            "change it in the rota (`hotline rota import --rebind`), where the change is audited"
        )


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    if len(password) < 10:
        raise click.ClickException("use a password of at least 10 characters")
    return password


async def _change_account(
    username: str, *, password_hash: str | None = None, active: bool | None = None
) -> int:
    """Set a new password hash and/or activity on an account and end all its console sessions; how many."""
    from bot.clock import SystemClock
    from bot.console.sessions import end_all
    from bot.store.models import AuditEntry

    settings = _settings()
    engine = make_engine(settings.database_url)
    try:
        async with make_sessionmaker(engine)() as session, session.begin():
            account = (
                await session.execute(select(StaffAccount).where(StaffAccount.username == username))
            ).scalar_one_or_none()
            if account is None:
                raise click.ClickException(f"there is no account {username!r}")
            if password_hash is not None:
                account.password_hash = password_hash
            if active is not None:
                account.active = active
            ended = await end_all(session, account.id)
            action = "password_changed" if password_hash is not None else "account_deactivated"
            session.add(AuditEntry(staff_id=account.id, action=action, at=SystemClock().now()))
            return ended
    finally:
        await engine.dispose()


@staff.command("password")
@click.argument("username")
@click.option("--password-stdin", is_flag=True, help="Read the new password from standard input.")
def staff_password(username: str, password_stdin: bool) -> None:
    """Set a new password; every console session of the account ends (log in again everywhere)."""
    password = _read_password(password_stdin)
    ended = asyncio.run(_change_account(username, password_hash=hash_password(password)))
    click.echo(f"password of {username!r} changed; {ended} console session(s) ended")


@staff.command("deactivate")
@click.argument("username")
def staff_deactivate(username: str) -> None:
    """Close an account: it can no longer log in, and every console session of it ends at once."""
    ended = asyncio.run(_change_account(username, active=False))
    click.echo(f"account {username!r} deactivated; {ended} console session(s) ended")


@click.group()
def rota() -> None:
    """The on-call rota."""


@rota.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--weeks", default=8, show_default=True, help="How many weeks of weekly patterns to lay out.")
@click.option(
    "--rebind", is_flag=True, help="Confirm changing or removing counsellors' Telegram ids or phones."
)
@click.option("--reactivate", is_flag=True, help="Confirm reactivating deactivated counsellors.")
def rota_import(path: Path, weeks: int, rebind: bool, reactivate: bool) -> None:
    """Replace the future rota with the one in PATH (format: `bot/escalation/rota.py`).

    It refuses, changing nothing, to rebind an existing counsellor's Telegram id or phone or to
    reactivate a deactivated one unless --rebind / --reactivate confirm it; every change is audited.
    """
    settings = _settings()
    try:
        plan = parse_rota(path.read_text(encoding="utf-8"), today=date.today(), weeks=weeks)
    except RotaError as exc:
        raise click.ClickException(f"{path}: {exc}") from exc

    async def run() -> RotaResult:
        from bot.clock import SystemClock

        engine = make_engine(settings.database_url)
        try:
            crypto = await load_crypto(settings.secret, make_sessionmaker(engine))
            async with make_sessionmaker(engine)() as session, session.begin():
                return await import_rota(
                    session, crypto, plan, now=SystemClock().now(), rebind=rebind,
                    reactivate=reactivate, via="cli",
                )  # fmt: skip
        finally:
            await engine.dispose()

    try:
        result = asyncio.run(run())
    except RotaNeedsConfirmation as exc:
        flags = " and ".join(f"--{flag}" for flag in sorted({c.confirm for c in exc.changes}))
        listed = "\n".join(f"  {change.describe()}" for change in exc.changes)
        raise click.ClickException(
            f"{path}: nothing was imported; this rota would change existing counsellors:\n{listed}\n"
            f"If that is intended, run it again with {flags}."
        ) from exc
    except RotaError as exc:
        raise click.ClickException(f"{path}: {exc}") from exc
    for change in result.changes:
        click.echo(change.describe(done=True))
    click.echo(f"rota imported: {result.counsellors} counsellors, {result.shifts} shifts")


@rota.command("show")
def rota_show() -> None:
    """Who is on call now, in paging order."""
    settings = _settings()

    async def run() -> list[str]:
        from bot.clock import SystemClock

        engine = make_engine(settings.database_url)
        try:
            async with make_sessionmaker(engine)() as session:
                return [c.display_name for c in await chain_at(session, SystemClock().now())]
        finally:
            await engine.dispose()

    chain = asyncio.run(run())
    click.echo("\n".join(f"{i}. {name}" for i, name in enumerate(chain, 1)) or "nobody is on call now")


COMMANDS = [staff, rota]
