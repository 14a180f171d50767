"""Where a phone-line greeting's time goes: ``POST /ivr/voice`` through the whole ASGI app, in-process.

    .venv/bin/python benchmarks/greeting_profile.py [--calls 5000] [--concurrency 32] [--profile]
        [--top 30] [--callees PATTERN] [--database-url URL] [--code /tmp/base-checkout]

Builds the app as ``hotline serve`` does (web chat and phone line, a fresh SQLite file by default),
answers 200 calls to warm it, then ``--calls`` new calls, each signed as Twilio signs, ``--concurrency``
at a time, straight into the ASGI app (:mod:`benchmarks.inprocess`: no socket, no HTTP parser: what is
left is the app's own cost). Prints the calls per second, the process's CPU time per call, p50/p99/max
latency, the commits' times and the garbage collector's passes; with ``--profile``, cProfile's top
functions. ``--code DIR`` runs another checkout's code (a baseline; run both in turns). Bounded; nothing
leaves the machine.
"""

from __future__ import annotations

import secrets
import sys
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.channel_configs import ACCOUNT_SID, AUTH_TOKEN, CALLER_ID, twilio_call
from benchmarks.inprocess import PUBLIC_URL, Request, arguments, measure, serve

WARM = 200


def signed_call(n: int) -> Request:
    from twilio.request_validator import RequestValidator

    params = twilio_call(n)
    signature = RequestValidator(AUTH_TOKEN).compute_signature(PUBLIC_URL + "/ivr/voice", params)
    return Request(
        "/ivr/voice",
        "application/x-www-form-urlencoded",
        urlencode(params).encode(),
        ((b"x-twilio-signature", signature.encode()),),
    )


def main() -> None:
    args = arguments(__doc__ or "", "calls", 5000)
    first = secrets.randbelow(1 << 40) << 20
    calls = [signed_call(first + n) for n in range(WARM + args.count)]
    twilio = {
        "HOTLINE_TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "HOTLINE_TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "HOTLINE_TWILIO_CALLER_ID": CALLER_ID,
    }
    serve(args, twilio, lambda: measure(args, calls[:WARM], calls[WARM:]))


if __name__ == "__main__":
    main()
