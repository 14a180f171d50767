"""``hotline serve`` (the web chat, webhooks, console and the outbox dispatcher) and ``hotline dispatch``."""

from __future__ import annotations

import asyncio
import contextlib
import sys
from typing import TYPE_CHECKING, Any

import click

from bot.cli.common import settings_for
from bot.errors import ContentErrors

if TYPE_CHECKING:
    from bot.runtime import Services


@click.command()
@click.option("--host", default=None, help="Interface to listen on (default HOTLINE_HOST, 127.0.0.1).")
@click.option("--port", default=None, type=int, help="Port (default HOTLINE_PORT, 8000).")
@click.option("--migrate/--no-migrate", default=True, help="Bring the database up to date first.")
@click.option(
    "--workers",
    default=1,
    type=click.IntRange(1, 64),
    help="Server processes sharing the port (PostgreSQL only: SQLite has one writer). Default 1.",
)
@click.pass_context
def serve(ctx: click.Context, host: str | None, port: int | None, migrate: bool, workers: int) -> None:
    """Serve the web chat, the webhooks and the console."""
    settings = settings_for(ctx)
    if workers > 1 and not settings.database_url.startswith("postgresql"):
        raise click.UsageError(
            "--workers needs PostgreSQL: SQLite has one writer at a time, so more processes would only "
            "wait for each other's write lock. Serve with one worker, or set HOTLINE_DATABASE_URL to a "
            "PostgreSQL database."
        )
    if migrate:  # imported only then: alembic (and mako, pygments) take most of a second to import
        from bot.store.migrate import upgrade

        upgrade(settings.database_url)
    host = host or settings.host
    port = port or settings.port
    if workers == 1:
        config, services = _server_config(settings, host, port)
        _run_server(config, services)
        return
    import uvicorn

    from bot.web.workers import STARTUP_FAILURE, Supervisor

    # Bound here, before any worker is forked: each one serves this socket (bot/web/workers.py).
    sock = uvicorn.Config("bot.web.app:create_app", host=host, port=port).bind_socket()
    click.echo(f"Serving on http://{host}:{port} with {workers} workers")

    def serve_one(listening: Any) -> None:
        try:
            config, services = _server_config(settings, host, port, quiet=True)
        except click.ClickException as exc:
            exc.show()
            sys.exit(STARTUP_FAILURE)
        _run_server(config, services, sockets=[listening])

    sys.exit(Supervisor(workers, sock, serve_one).run())


def _server_config(settings: Any, host: str, port: int, *, quiet: bool = False) -> tuple[Any, Services]:
    """The app, built from the settings, in uvicorn's config; and the app's services."""
    import uvicorn

    from bot.web.app import create_app
    from bot.web.server import server_options

    try:
        # Telegram (aiogram: seconds to import) is built once the server listens; until then its webhook
        # waits for it and its deliveries are re-timed (bot/channels/pending.py).
        app = create_app(settings, run_dispatcher=settings.dispatcher_enabled, background=True)
    except ContentErrors as exc:
        raise click.ClickException(f"the content has mistakes; run `hotline check`:\n{exc}") from exc
    services: Services = app.state.services
    channels = services.channels
    if not quiet:
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
    return config, services


GRACEFUL_SHUTDOWN_SECONDS = 10
"""After a stop signal, requests still open after this long are cancelled (long-lived streams)."""


WARM_AFTER_SECONDS = 1.0
"""The warm-up (``Services.warm``) starts this long after the server listens: started at once, its thread
held the interpreter while the first requests (an orchestrator's health check) waited, 0.35 s more to
``/healthz`` with every channel on (``benchmarks/startup_bench.py``)."""


def _run_server(config: Any, services: Services, sockets: list[Any] | None = None) -> None:
    """Run uvicorn, ending the web chat's event streams when it starts shutting down.

    uvicorn waits for open requests to finish before the app's shutdown runs; an event stream never
    finishes by itself, so it is ended first (the page reconnects, or polls, on its own). Once the server
    listens and every channel is built, what the first emergency uses is built (``Services.warm``, a
    second later: before, it made start-up half a second longer), then the heap built so far is kept out of the
    garbage collector's passes (:mod:`bot.web.heap`; frozen once already as the server starts listening).
    """
    import uvicorn

    from bot.web import heap

    class Server(uvicorn.Server):
        freezing: asyncio.Task[None] | None = None

        async def startup(self, sockets: Any = None) -> None:
            await super().startup(sockets)  # the app's lifespan (services built), then the listening socket
            if not self.should_exit:
                heap.freeze(collect=False)  # the full passes the warm-up sets off walk only what it makes
                self.freezing = asyncio.create_task(self.warm_then_freeze(), name="warm-then-freeze")

        async def warm_then_freeze(self) -> None:
            await asyncio.sleep(WARM_AFTER_SECONDS)
            await services.warm()
            heap.freeze()

        async def shutdown(self, sockets: Any = None) -> None:
            if self.freezing is not None:
                self.freezing.cancel()
            for channel in services.channels.values():
                end_streams = getattr(channel, "end_streams", None)
                if end_streams is not None:
                    end_streams()
            await super().shutdown(sockets)

    server = Server(config)
    server.run(sockets=sockets)
    if not server.started:  # e.g. the port is taken: uvicorn logged why; fail as uvicorn.run does
        sys.exit(3)


@click.command()
@click.pass_context
def dispatch(ctx: click.Context) -> None:
    """Run only the outbox dispatcher (pages, deliveries), e.g. as a separate worker process."""
    from bot.runtime import build_services

    settings = settings_for(ctx)
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
