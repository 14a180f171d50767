"""The ``hotline`` command: serve, chat in the terminal, migrate, check content, and the rest."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import click

from bot.errors import ConfigError, ContentErrors
from bot.logs import setup_logging
from bot.settings import Settings


def load_settings(**overrides: object) -> Settings:
    try:
        settings = Settings(**{k: v for k, v in overrides.items() if v is not None})  # type: ignore[arg-type]
        _ = settings.secret
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc
    return settings


# Commands that live with their part of the system (NLU, channels, escalation, statistics), by name.
# Their modules are imported only when the command runs (or for --help): `hotline serve` does not pay for
# aiogram, the Zalo clients or the statistics.
LAZY_COMMANDS = {
    "train": "bot.cli.train:train_command",
    "classify": "bot.nlu.commands:classify_command",
    "eval": "bot.nlu.commands:eval_command",
    "export-rasa": "bot.nlu.commands:export_rasa_command",
    "telegram": "bot.channels.telegram.commands:telegram_group",
    "zalo": "bot.channels.zalo.commands:zalo",
    "zalo-oa": "bot.channels.zalo.commands:zalo_oa",
    "staff": "bot.escalation.commands:staff",
    "rota": "bot.escalation.commands:rota",
    "stats": "bot.stats.commands:stats_command",
    "rotate-key": "bot.cli.keys:rotate_key",
    "backup": "bot.cli.backup:backup_command",
    "restore": "bot.cli.backup:restore_command",
    "doctor": "bot.cli.doctor:doctor_command",
}


class _LazyGroup(click.Group):
    """A click group that imports a command's module when the command is asked for."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *LAZY_COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = super().get_command(ctx, cmd_name)
        if command is not None or cmd_name not in LAZY_COMMANDS:
            return command
        import importlib

        module_name, _, attribute = LAZY_COMMANDS[cmd_name].partition(":")
        found = getattr(importlib.import_module(module_name), attribute)
        if not isinstance(found, click.Command):
            raise TypeError(f"{LAZY_COMMANDS[cmd_name]} is not a click command")
        return found


@click.group(cls=_LazyGroup)
@click.option("--database-url", envvar="HOTLINE_DATABASE_URL", help="Overrides HOTLINE_DATABASE_URL.")
@click.pass_context
def main(ctx: click.Context, database_url: str | None) -> None:
    """Anonymous harm-reduction hotline: web chat, Telegram, Zalo and a phone line on one engine."""
    ctx.ensure_object(dict)
    ctx.obj["database_url"] = database_url


def _settings(ctx: click.Context) -> Settings:
    settings = load_settings(database_url=ctx.obj.get("database_url"))
    setup_logging(settings.log_level, settings.log_format)
    return settings


@main.command()
@click.option("--host", default=None, help="Interface to listen on (default HOTLINE_HOST, 127.0.0.1).")
@click.option("--port", default=None, type=int, help="Port (default HOTLINE_PORT, 8000).")
@click.option("--migrate/--no-migrate", default=True, help="Bring the database up to date first.")
@click.pass_context
def serve(ctx: click.Context, host: str | None, port: int | None, migrate: bool) -> None:
    """Serve the web chat, the webhooks and the console."""
    import uvicorn

    from bot.web.app import create_app
    from bot.web.server import server_options

    settings = _settings(ctx)
    if migrate:  # imported only then: alembic (and mako, pygments) take most of a second to import
        from bot.store.migrate import upgrade

        upgrade(settings.database_url)
    try:
        # Telegram (aiogram: seconds to import) is built once the server listens; until then its webhook
        # waits for it and its deliveries are re-timed (bot/channels/pending.py).
        app = create_app(settings, run_dispatcher=settings.dispatcher_enabled, background=True)
    except ContentErrors as exc:
        raise click.ClickException(f"the content has mistakes; run `hotline check`:\n{exc}") from exc
    host = host or settings.host
    port = port or settings.port
    channels = app.state.services.channels
    click.echo(f"Serving on http://{host}:{port}  (channels: {', '.join(channels)})")
    # Limits against slow and greedy clients (bot/web/server.py): a request timeout, a header size limit,
    # connections kept under the open-file limit.
    limits = server_options(
        request_timeout=settings.request_timeout_seconds,
        max_connections=settings.max_connections,
        keep_alive=settings.keep_alive_seconds,
    )
    config = uvicorn.Config(
        app, host=host, port=port, log_config=None, access_log=False, proxy_headers=True,
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS, **limits,
    )  # fmt: skip
    _run_server(config, channels.values())


GRACEFUL_SHUTDOWN_SECONDS = 10
"""After a stop signal, requests still open after this long are cancelled (long-lived streams)."""


def _run_server(config: Any, channels: Iterable[object]) -> None:
    """Run uvicorn, ending the web chat's event streams when it starts shutting down.

    uvicorn waits for open requests to finish before the app's shutdown runs; an event stream never
    finishes by itself, so it is ended first (the page reconnects, or polls, on its own).
    """
    import uvicorn

    class Server(uvicorn.Server):
        async def shutdown(self, sockets: Any = None) -> None:
            for channel in channels:
                end_streams = getattr(channel, "end_streams", None)
                if end_streams is not None:
                    end_streams()
            await super().shutdown(sockets)

    server = Server(config)
    server.run()
    if not server.started:  # e.g. the port is taken: uvicorn logged why; fail as uvicorn.run does
        sys.exit(3)


@main.command()
@click.pass_context
def dispatch(ctx: click.Context) -> None:
    """Run only the outbox dispatcher (pages, deliveries), e.g. as a separate worker process."""
    from bot.runtime import build_services

    settings = _settings(ctx)
    if settings.dispatch_metrics_port is not None:  # its page timings, for Prometheus (deploy/README.md)
        from bot.metrics import serve_in_thread

        serve_in_thread(settings.dispatch_metrics_port)

    async def run() -> None:
        services = build_services(settings)
        await services.start(dispatcher=False)
        try:
            await services.dispatcher.run_forever(settings.dispatcher_interval_seconds)
        finally:
            await services.close()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run())


@main.group()
def db() -> None:
    """Database migrations."""


@db.command("upgrade")
@click.option("--revision", default="head")
@click.pass_context
def db_upgrade(ctx: click.Context, revision: str) -> None:
    """Create or migrate the database to the latest schema."""
    from bot.store.migrate import upgrade

    settings = _settings(ctx.find_root())
    upgrade(settings.database_url, revision)
    click.echo("database is up to date")


@main.command()
@click.option("--flows", "flows_dir", type=click.Path(path_type=Path), default=None)
@click.option("--knowledge", "knowledge_dir", type=click.Path(path_type=Path), default=None)
def check(flows_dir: Path | None, knowledge_dir: Path | None) -> None:
    """Check flows/ and knowledge/; print file:line for each mistake (exit 1 on any)."""
    from bot.content.check import run_check

    settings = Settings()
    code = run_check(flows_dir or settings.flows_dir, knowledge_dir or settings.knowledge_dir, click.echo)
    sys.exit(code)


@main.command()
@click.option("--user", default=None, help="A name for this terminal session (kept only as a keyed hash).")
@click.option("--lang", type=click.Choice(["vi", "en"]), default=None)
@click.pass_context
def chat(ctx: click.Context, user: str | None, lang: str | None) -> None:
    """Talk to the engine in the terminal (type a number to choose, Ctrl-D to leave)."""
    from bot.cli.terminal import run_terminal_chat
    from bot.store.migrate import upgrade

    settings = _settings(ctx)
    upgrade(settings.database_url)
    logging.getLogger().setLevel(logging.WARNING)
    asyncio.run(run_terminal_chat(settings, user or secrets.token_hex(8), lang))


@main.command()
@click.pass_context
def purge(ctx: click.Context) -> None:
    """Delete transcripts and idle conversations older than HOTLINE_RETENTION_DAYS."""
    from bot.store.maintenance import run_purge

    settings = _settings(ctx)
    counts = asyncio.run(run_purge(settings))
    click.echo(", ".join(f"{name}: {count}" for name, count in counts.items()))
