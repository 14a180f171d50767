"""Crash recovery in seconds: a restarted process sends the page its previous life was sending, once;
a live process's leases are never taken (issue 13: kill -9 once made a page 70 s late)."""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select

from bot.clock import FrozenClock
from bot.escalation.paging import Page
from bot.outbox.dispatcher import Dispatcher
from bot.outbox.instance import InstanceSlot
from bot.runtime import Services
from bot.settings import ROOT
from bot.store.models import OutboxEvent
from tests.outbox.conftest import emergency


@dataclass
class StuckPager:
    """Stands in for a transport that hangs mid-send while ``stuck`` (the moment of the kill)."""

    route: str = "telegram"
    stuck: bool = True
    entered: int = 0
    pages: list[tuple[str, int]] = field(default_factory=list)
    _never: asyncio.Event = field(default_factory=asyncio.Event)

    async def page(self, address: str, page: Page) -> None:
        self.entered += 1
        if self.stuck:
            await self._never.wait()
        self.pages.append((address, page.escalation_id))

    async def notify(self, address: str, text: str) -> None:
        return None


def dispatcher(services: Services, instance_id: str, **kwargs: object) -> Dispatcher:
    """Another dispatcher over the same database and handlers, as another process would run it."""
    return Dispatcher(
        services.sessionmaker,
        services.crypto,
        services.clock,
        dict(services.dispatcher.handlers),
        instance_id=instance_id,
        **kwargs,  # type: ignore[arg-type]
    )


async def killed_mid_send(services: Services, pager: StuckPager, first: Dispatcher) -> None:
    """Queue an emergency's pages, let ``first`` claim them and hang in the sends, then 'kill' it."""
    await emergency(services)
    assert await services.dispatcher.run_once() == 1, "the page event queues one send per recipient"
    running = asyncio.create_task(first.run_once())
    async with asyncio.timeout(10):
        while pager.entered < 2:  # noqa: ASYNC110
            await asyncio.sleep(0.01)
    running.cancel()  # no clean-up runs after a kill -9: the leases stay as they were
    with contextlib.suppress(asyncio.CancelledError):
        await running
    pager.stuck = False


async def claimed_by(services: Services) -> list[str | None]:
    async with services.sessionmaker() as session:
        rows = await session.execute(select(OutboxEvent.claimed_by).where(OutboxEvent.kind == "page_send"))
        return [c for (c,) in rows.all()]


async def test_a_restarted_instance_sends_the_interrupted_page_at_once_and_once(
    services: Services, rota: dict[str, int], clock: FrozenClock
) -> None:
    pager = StuckPager()
    services.pagers["telegram"] = pager
    services.settings.telegram_staff_chat_id = -100555
    await killed_mid_send(services, pager, dispatcher(services, "host-a", lease_seconds=60))
    assert pager.pages == [] and all(c and c.startswith("host-a/") for c in await claimed_by(services))

    other = dispatcher(services, "host-b")
    assert await other.run_once() == 0, "another process leaves a live-looking lease alone"

    restarted = dispatcher(services, "host-a")  # the same instance id after the restart
    assert await restarted.recover() == 2
    assert await restarted.run_once() == 2, "no need to wait for the 60 s lease: the clock has not moved"
    assert sorted(address for address, _ in pager.pages) == ["-100555", "1001"]
    assert await restarted.run_once() == 0 and await other.run_once() == 0
    assert len(pager.pages) == 2, "each recipient paged once"


async def test_a_live_twin_with_the_same_instance_id_takes_nothing_back(
    services: Services, rota: dict[str, int], tmp_path: Path
) -> None:
    pager = StuckPager()
    services.pagers["telegram"] = pager
    services.settings.telegram_staff_chat_id = -100555
    first = dispatcher(services, "host-a", lock_dir=tmp_path)
    await first.recover()
    assert first.life == "host-a-0"
    await killed_mid_send(services, pager, first)  # "killed", but its process (and slot lock) lives on

    twin = dispatcher(services, "host-a", lock_dir=tmp_path)  # a second `hotline serve` on the host
    assert await twin.recover() == 0 and twin.life == "host-a-1"
    assert await twin.run_once() == 0
    assert pager.pages == []


async def test_a_long_send_keeps_its_lease_while_it_runs(
    services: Services, rota: dict[str, int], clock: FrozenClock
) -> None:
    """Short leases are safe: the heartbeat renews them, so no other process sends the page again."""
    pager = StuckPager()
    services.pagers["telegram"] = pager
    await emergency(services)
    assert await services.dispatcher.run_once() == 1
    slow = dispatcher(services, "host-a", lease_seconds=0.3)  # renewed every 0.1 s
    running = asyncio.create_task(slow.run_forever(interval=3600))
    try:
        async with asyncio.timeout(10):
            while pager.entered < 2:  # noqa: ASYNC110  (Lan and the staff group)
                await asyncio.sleep(0.01)
        clock.advance(seconds=30)  # far past the lease it was claimed with
        await asyncio.sleep(0.5)
        async with asyncio.timeout(5):  # (a second claim would hang in the stuck send: a failure)
            assert await dispatcher(services, "host-b").run_once() == 0, "its lease was renewed"
        assert pager.entered == 2, "nobody started the same sends again"
    finally:
        running.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await running
    assert await claimed_by(services) == [None, None], "a clean stop hands the lease back at once"


def test_a_killed_process_frees_its_instance_slot_for_its_restart(tmp_path: Path) -> None:
    """The slot lock is the kernel's: held while the process lives, gone the moment it is killed."""
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from pathlib import Path; from bot.outbox.instance import InstanceSlot; "
            f"s = InstanceSlot('host-a', Path({str(tmp_path)!r})); print(s.life, flush=True); time.sleep(60)",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "host-a-0"
        alive = InstanceSlot("host-a", tmp_path)
        assert alive.life == "host-a-1" and alive.trusted, "a live holder keeps its slot"
        alive.release()
    finally:
        holder.kill()
        holder.wait(timeout=10)
    restarted = InstanceSlot("host-a", tmp_path)
    assert restarted.life == "host-a-0", "after kill -9, the restart gets the same life back"
    restarted.release()


async def test_two_dispatchers_side_by_side_send_every_page_once(
    services: Services, rota: dict[str, int]
) -> None:
    """Two processes' worth of dispatchers (pools of 4) over one database: never the same page twice."""
    pager = StuckPager(stuck=False)
    services.pagers["telegram"] = pager
    services.settings.telegram_staff_chat_id = -100555
    for _ in range(12):
        await emergency(services)
    pools = [dispatcher(services, name, workers=4) for name in ("host-a", "host-b")]
    running = [asyncio.create_task(pool.run_forever(interval=0.05)) for pool in pools]
    try:
        async with asyncio.timeout(60):
            while len(pager.pages) < 24:  # noqa: ASYNC110  (Lan and the staff group, for each)
                await asyncio.sleep(0.05)
        await asyncio.sleep(0.5)  # a duplicate would arrive now
    finally:
        for task in running:
            task.cancel()
        for task in running:
            with contextlib.suppress(asyncio.CancelledError):
                await task
    assert len(pager.pages) == 24 and len(set(pager.pages)) == 24
