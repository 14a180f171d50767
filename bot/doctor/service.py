"""The service's own parts: the secret key, the database and its migrations, the content, the model."""

from __future__ import annotations

import asyncio

from sqlalchemy import text

from bot.doctor.report import Context, Finding, ok, problem, skipped
from bot.engine.content import load_content
from bot.errors import ConfigError, ContentErrors
from bot.nlu.cache import model_path
from bot.settings import ROOT
from bot.store.migrate import head_revision


async def secret_key(ctx: Context) -> list[Finding]:
    """Given, long enough, in a file only the service can read, and (in production) outside ``var/``.

    The rules are :attr:`Settings.secret`'s; the file's mode is checked in every environment here.
    """
    settings = ctx.settings
    try:
        _ = settings.secret
    except ConfigError as exc:
        return [
            problem(
                "secret key",
                str(exc),
                "if data was already stored with the current key, read deploy/README.md, 'Keys', "
                "before changing it (a new key cannot read what the old one encrypted)",
            )
        ]
    if settings.secret_key is not None:
        return [ok("secret key", "given in HOTLINE_SECRET_KEY, long enough")]
    path = settings.secret_key_file
    if path.stat().st_mode & 0o077:
        return [problem("secret key", f"{path} can be read by other users", f"`chmod 600 {path}`")]
    if path.resolve().is_relative_to((ROOT / "var").resolve()):
        return [ok("secret key", f"a development key in {path} (production needs one outside var/)")]
    return [ok("secret key", f"read from {path}, private, long enough")]


async def database(ctx: Context) -> list[Finding]:
    """The database answers, and its schema is at the migrations' head."""
    upgrade = "run `hotline db upgrade` (`hotline serve` also does it when it starts)"
    try:
        async with ctx.engine().connect() as connection:
            await connection.execute(text("SELECT 1"))
            try:
                rows = await connection.execute(text("SELECT version_num FROM alembic_version"))
                found = [str(row[0]) for row in rows]
            except Exception:
                found = []
    except Exception as exc:  # the driver's message may carry the URL and its password: the type only
        return [
            problem(
                "database",
                f"cannot connect ({type(exc).__name__})",
                "check HOTLINE_DATABASE_URL and that PostgreSQL runs (`systemctl status postgresql`)",
            )
        ]
    head = await asyncio.to_thread(head_revision)
    kind = "SQLite" if ctx.settings.is_sqlite else "PostgreSQL"
    if not found:
        return [ok("database", f"{kind} answers"), problem("migrations", "the database is empty", upgrade)]
    if found != [head]:
        return [
            ok("database", f"{kind} answers"),
            problem("migrations", f"the database is at {', '.join(found)}, the code expects {head}", upgrade),
        ]
    return [ok("database", f"{kind} answers"), ok("migrations", f"at the latest revision ({head})")]


async def content(ctx: Context) -> list[Finding]:
    """The flows and the knowledge load (what ``hotline check`` checks)."""
    settings = ctx.settings
    try:
        loaded = await asyncio.to_thread(load_content, settings.flows_dir, settings.knowledge_dir)
    except ContentErrors as exc:
        return [problem("content", f"{len(exc.errors)} mistake(s)", "run `hotline check` to see each one")]
    articles = len(loaded.knowledge.articles)
    return [ok("content", f"{len(loaded.flows.nodes)} flow nodes, {articles} articles")]


async def model(ctx: Context) -> list[Finding]:
    """The language model is trained for the current content and code (a start then only loads it)."""
    settings = ctx.settings
    if settings.rasa_url:
        return [skipped("model", "Rasa is used (HOTLINE_RASA_URL)")]
    path = await asyncio.to_thread(model_path, settings.model_dir, settings.knowledge_dir)
    if path.is_file():
        return [ok("model", "trained for the current content")]
    return [
        problem(
            "model",
            "not trained for the current content: each start trains it again (slow)",
            "run `hotline train`",
        )
    ]
