"""Where a web chat message's time goes: ``POST /api/webchat`` through the whole ASGI app, in-process.

    .venv/bin/python benchmarks/webchat_profile.py [--messages 3000] [--concurrency 32] [--profile]
        [--top 30] [--callees PATTERN] [--database-url URL] [--code /tmp/base-checkout] [--new]

Builds the app as ``hotline serve`` does (web chat and phone line, a fresh SQLite file by default),
sends a first message on each of 256 sessions to warm it, then ``--messages`` new text messages (the
texts of ``benchmarks/engine_bench.py``, the sessions in turn, as ``benchmarks/http_bench.py`` sends
them), ``--concurrency`` at a time, straight into the ASGI app (:mod:`benchmarks.inprocess`: no socket,
no HTTP parser). Prints the messages per second, the process's CPU time per message, p50/p99/max
latency, the commits' times and the garbage collector's passes; with ``--profile``, cProfile's top
functions. ``--new``: each measured message is the first of a session of its own (a new conversation
and contact), the warm-up's 256 sessions unchanged. ``--code DIR`` runs another checkout's code (a baseline; run both in turns). Bounded; nothing
leaves the machine.
"""

from __future__ import annotations

import argparse
import json
import secrets
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.inprocess import Request, arguments, measure, serve

SESSIONS = 256


def requests(count: int, *, new: bool = False) -> list[Request]:
    """``count`` messages: the first :data:`SESSIONS` open the sessions, the rest go to them in turn (or,
    ``new``, each to a session of its own)."""
    from benchmarks.engine_bench import MESSAGES

    tag = secrets.token_hex(4)
    return [
        Request(
            "/api/webchat",
            "application/json",
            json.dumps(
                {
                    "session": f"bench{(n if new else n % SESSIONS) + 1:012d}{tag}",
                    "id": f"m{n}",
                    "text": MESSAGES[n % len(MESSAGES)],
                }
            ).encode(),
        )
        for n in range(count)
    ]


def main() -> None:
    def more(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--new", action="store_true", help="each message opens a new conversation")

    args = arguments(__doc__ or "", "messages", 3000, more)
    # one client opens every session here: the per-address caps would refuse them
    caps_off = {"HOTLINE_FLOOD_SESSIONS_PER_MINUTE": "0", "HOTLINE_FLOOD_SESSIONS_PER_HOUR": "0"}

    def run() -> Any:
        # made here, once serve has put --code first: engine_bench imports the service's code
        every = requests(SESSIONS + args.count, new=args.new)
        return measure(args, every[:SESSIONS], every[SESSIONS:])

    serve(args, caps_off, run)


if __name__ == "__main__":
    main()
