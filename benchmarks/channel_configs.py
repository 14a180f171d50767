"""The channel configurations the benchmarks start the service with, against fakes on loopback.

- ``none``: the web chat alone (nothing to configure);
- ``web+phone``: the web chat and the phone line (Twilio's settings; the REST API is never called here);
- ``all``: every channel: the web chat, the phone line, Telegram, the Zalo bot, Zalo OA and Messenger,
  each pointed at its fake (``tests/fakes``) on loopback, as the tests do.

:func:`loopback_fakes` starts the fakes (each on its own event loop in a thread of the benchmark's
process); :func:`channel_env` gives the ``HOTLINE_*`` settings of a configuration. Nothing leaves the
machine.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.fakes.graph_api import FakeGraph
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.zalo_api import FakeZalo

CONFIGS = ("none", "web+phone", "all")
AUTH_TOKEN = "bench-auth-token-0123456789abcdef"  # noqa: S105 (a made-up token for loopback)
ACCOUNT_SID = "AC" + "0" * 32
CALLER_ID = "+84900000001"
WEBHOOK_SECRET = "bench-webhook-secret"  # noqa: S105
ZALO_BOT_SECRET = "bench-zalo-bot-secret"  # noqa: S105
MESSENGER_SECRET = "bench-messenger-app-secret"  # noqa: S105
MESSENGER_VERIFY_TOKEN = "bench-messenger-verify-token"  # noqa: S105
ZALO_OA_SECRET_KEY = "bench-zalo-oa-secret-key"  # noqa: S105


def twilio_call(n: int) -> dict[str, str]:
    """The form Twilio posts for the ``n``-th new incoming call (each ``n`` its own call and caller)."""
    return {
        "CallSid": f"CA{n:032x}",
        "AccountSid": ACCOUNT_SID,
        "From": f"+8498{n % 10_000_000:07d}",
        "To": CALLER_ID,
        "CallStatus": "ringing",
        "Direction": "inbound",
    }


@dataclass
class Fakes:
    telegram: FakeTelegram
    zalo: FakeZalo
    graph: FakeGraph


@contextmanager
def loopback_fakes() -> Iterator[Fakes]:
    """The fake Telegram, Zalo and Graph APIs, each on a loopback port, for the run."""
    with ExitStack() as stack:
        yield Fakes(
            telegram=stack.enter_context(FakeTelegram()),
            zalo=stack.enter_context(FakeZalo()),
            graph=stack.enter_context(FakeGraph()),
        )


def channel_env(config: str, fakes: Fakes) -> dict[str, str]:
    """The settings that switch on the channels of ``config`` (one of :data:`CONFIGS`)."""
    if config not in CONFIGS:
        raise ValueError(f"unknown configuration {config!r}: one of {', '.join(CONFIGS)}")
    env: dict[str, str] = {}
    if config == "none":
        return env
    env.update(
        HOTLINE_TWILIO_ACCOUNT_SID=ACCOUNT_SID,
        HOTLINE_TWILIO_AUTH_TOKEN=AUTH_TOKEN,
        HOTLINE_TWILIO_CALLER_ID=CALLER_ID,
    )
    if config == "web+phone":
        return env
    zalo, graph = fakes.zalo, fakes.graph
    env.update(
        HOTLINE_TELEGRAM_TOKEN=fakes.telegram.token,
        HOTLINE_TELEGRAM_API_URL=fakes.telegram.url,
        HOTLINE_TELEGRAM_WEBHOOK_SECRET=WEBHOOK_SECRET,
        HOTLINE_ZALO_BOT_TOKEN=zalo.bot_token,
        HOTLINE_ZALO_BOT_WEBHOOK_SECRET=ZALO_BOT_SECRET,
        HOTLINE_ZALO_BOT_API_URL=zalo.url,
        HOTLINE_ZALO_OA_APP_ID=zalo.app_id,
        HOTLINE_ZALO_OA_SECRET_KEY=ZALO_OA_SECRET_KEY,
        HOTLINE_ZALO_OA_APP_SECRET=zalo.app_secret,
        HOTLINE_ZALO_OA_ACCESS_TOKEN=next(iter(zalo.valid_access)),
        HOTLINE_ZALO_OA_REFRESH_TOKEN=next(iter(zalo.refresh_tokens)),
        HOTLINE_ZALO_OA_API_URL=zalo.url,
        HOTLINE_ZALO_OA_OAUTH_URL=zalo.url,
        HOTLINE_MESSENGER_PAGE_TOKEN=graph.page_token,
        HOTLINE_MESSENGER_APP_SECRET=MESSENGER_SECRET,
        HOTLINE_MESSENGER_VERIFY_TOKEN=MESSENGER_VERIFY_TOKEN,
        HOTLINE_MESSENGER_API_URL=graph.url,
        HOTLINE_MESSENGER_API_VERSION=graph.version,
    )
    return env


def rss_mib(pid: int) -> float:
    """The resident memory of a process and its children (uvicorn workers), in MiB (Linux)."""
    total = 0
    pids = [pid]
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if children.exists():
        pids += [int(p) for p in children.read_text().split()]
    for each in pids:
        try:
            status = Path(f"/proc/{each}/status").read_text()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1])
    return total / 1024
