"""How many SQL statements one web-chat message costs: ``POST /api/webchat`` through the whole app (in
process, no socket), with every statement counted (see below).

    .venv/bin/python benchmarks/statements_per_message.py [--messages 200] [--sessions 16] [--database-url URL]

Prints the statements per message, and per kind (the first words of the statement, e.g. ``SELECT
conversations``), after a warm-up message per session. On SQLite (inline) they are counted by sqlite3's
trace instead, as the hot path's compiled statements go straight to it (:mod:`bot.store.compiled`):
there each row of an ``executemany`` (a message's transcript lines) counts as one statement; commits and
rollbacks are not counted on either. Nothing leaves the machine.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import secrets
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import event

from benchmarks.engine_bench import MESSAGES
from bot.runtime import build_services
from bot.settings import Settings
from bot.store.migrate import upgrade
from bot.store.sqlite_inline import InlineConnection


def _kind(statement: str) -> str:
    words = statement.split()
    verb = words[0].upper() if words else "?"
    table = re.search(r"\b(?:FROM|INTO|UPDATE)\s+\"?(\w+)", statement, re.IGNORECASE)
    return (
        f"{verb} {table.group(1)}"
        if table and verb != "BEGIN"
        else verb + (" " + words[1] if verb == "BEGIN" and len(words) > 1 else "")
    )


async def run(database_url: str, messages: int, sessions: int) -> None:
    from bot.web.app import create_app

    upgrade(database_url)
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        env="test",
        database_url=database_url,
        secret_key="b" * 40,  # type: ignore[arg-type]
        flood_sessions_per_minute=0,  # as http_bench.py: many new sessions from one address
        flood_sessions_per_hour=0,
    )
    services = build_services(settings)
    await services.start(dispatcher=False)
    counts: Counter[str] = Counter()

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.split(None, 1)[0].upper() not in ("COMMIT", "ROLLBACK"):  # not counted by the event
            counts[_kind(statement)] += 1

    app = create_app(services=services, run_dispatcher=False)
    names = [secrets.token_hex(12) for _ in range(sessions)]
    origin = settings.public_url.rstrip("/")
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url=origin, headers={"Origin": origin}
    ) as http:

        async def post(i: int) -> None:
            body = {"session": names[i % sessions], "id": f"m{i}", "text": MESSAGES[i % len(MESSAGES)]}
            answer = await http.post("/api/webchat", json=body)
            answer.raise_for_status()

        for i in range(sessions):  # the first message of each conversation
            await post(i)
        # On SQLite (inline, one connection) the compiled statements go straight to sqlite3
        # (bot.store.compiled): its trace sees every statement run there, SQLAlchemy's event only some.
        async with services.db.connect() as connection:
            driver = (await connection.get_raw_connection()).driver_connection
        inline = driver._conn if isinstance(driver, InlineConnection) else None
        if inline is not None:
            inline.set_trace_callback(lambda statement: count(None, None, statement))
        else:
            event.listen(services.db.sync_engine, "before_cursor_execute", count)
        for i in range(sessions, sessions + messages):
            await post(i)
        if inline is not None:
            inline.set_trace_callback(None)
        else:
            event.remove(services.db.sync_engine, "before_cursor_execute", count)
    await services.close()
    total = sum(counts.values())
    print(f"messages: {messages}, statements: {total}, per message: {total / messages:.2f}")
    for kind, n in counts.most_common():
        print(f"  {n / messages:6.2f}  {kind}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=200)
    parser.add_argument("--sessions", type=int, default=16)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = args.database_url or f"sqlite+aiosqlite:///{Path(folder) / 'count.db'}"
        asyncio.run(run(url, min(args.messages, 5000), max(args.sessions, 1)))


if __name__ == "__main__":
    main()
