"""The running service: everything built once per process from the settings, and torn down at exit."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.channels.door import ChannelStore, Door
from bot.channels.pending import Pending, PendingChannel, PendingPager
from bot.channels.registry import CHANNEL_FACTORIES, PAGER_FACTORIES, Lazy
from bot.clock import Clock, SystemClock
from bot.engine.content import Content
from bot.engine.content_cache import load_content_cached
from bot.engine.deps import EngineDeps, ForgetHook
from bot.engine.engine import Engine
from bot.engine.inbox import Inbox
from bot.engine.safety import NluSafetyCheck
from bot.errors import ConfigError
from bot.escalation.alerts import AlertSender
from bot.escalation.checkins import CheckinTimer
from bot.escalation.desk import Desk
from bot.escalation.paging import Pager, Paging
from bot.messages import Reply
from bot.metrics import SAFETY_REPLY_SECONDS
from bot.nlu import NLU, build_nlu
from bot.nlu.bystander import Bystander
from bot.outbox.dispatcher import Dispatcher, Event, GiveUp
from bot.outbox.instance import default_instance_id
from bot.settings import Settings
from bot.store.crypto import Crypto
from bot.store.db import make_engine, make_sessionmaker
from bot.store.keyring import load_versions
from bot.store.notify import OUTBOX, Listener, announce
from bot.store.outbox_kinds import DELIVER
from bot.store.retention import purge

if TYPE_CHECKING:
    from bot.channels.base import Channel

log = logging.getLogger(__name__)


@dataclass
class Services:
    """Everything the app, the CLI and the tests share for one process."""

    settings: Settings
    db: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    crypto: Crypto
    clock: Clock
    content: Content
    nlu: NLU
    engine: Engine
    dispatcher: Dispatcher
    desk: Desk
    channels: dict[str, Channel] = field(default_factory=dict)
    pagers: dict[str, Pager] = field(default_factory=dict)
    # PostgreSQL: wake-ups from other processes (bot/store/notify.py); None on SQLite or when turned off.
    listener: Listener | None = None
    # Channels and pagers to build after the server listens (stand-ins answer for them until then).
    later: list[tuple[Pending, Lazy]] = field(default_factory=list)
    # Whether this process runs the outbox dispatcher (``/readyz`` then checks that it keeps running).
    dispatching: bool = False
    # Set once every channel and pager is built (at start, or when those left for later are).
    built: asyncio.Event = field(default_factory=asyncio.Event)
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)

    async def deliver(self, event: Event) -> None:
        """The outbox handler for ``deliver``: send queued replies through their channel."""
        channel = self.channels.get(event.channel or "")
        if channel is None or not channel.push:
            raise GiveUp(f"channel {event.channel!r} is not configured for sending")
        replies = [Reply.from_json(r) for r in event.payload["replies"]]
        await channel.send(event.payload["address"], replies)
        if event.payload.get("emergency"):
            SAFETY_REPLY_SECONDS.observe(max((self.clock.now() - event.created_at).total_seconds(), 0.0))

    async def start(self, *, dispatcher: bool = True) -> None:
        await self.refresh_keys()
        if self.listener is not None:
            self.listener.start()
        self._tasks.append(asyncio.create_task(self._refresh_keys_forever(), name="keys"))
        for channel in self.channels.values():
            await channel.start()
        if self.later:
            self._tasks.append(asyncio.create_task(self.build_later(), name="build-later"))
        else:
            self.built.set()
        if dispatcher:
            self.dispatching = True
            self._tasks.append(
                asyncio.create_task(
                    self.dispatcher.run_forever(self.settings.dispatcher_interval_seconds), name="outbox"
                )
            )
            self._tasks.append(asyncio.create_task(self._purge_forever(), name="purge"))

    async def build_later(self) -> None:
        """Build the channels and pagers left for later (:mod:`bot.channels.pending`), one by one: each
        module is imported in a thread, so the event loop keeps answering meanwhile."""
        for pending, lazy in self.later:
            started = time.monotonic()
            try:
                factory = await asyncio.to_thread(lazy.load)
                built = self.build(lazy, factory, pager=not isinstance(pending, PendingChannel))
                if built is None:
                    raise ConfigError(f"{lazy.name}: its settings were found incomplete when it was built")
                if isinstance(pending, PendingChannel):
                    await built.start()
                    self.channels[pending.name] = built
                else:
                    self.pagers[pending.name] = built
            except Exception as exc:
                log.critical("%s could not be built, and waits for a restart: %s", pending.name, exc)
                pending.fail(exc)
                continue
            pending.resolve(built)
            log.info("%s ready (built in %.1f s)", pending.name, time.monotonic() - started)
        self.later.clear()
        self.built.set()
        self.dispatcher.wake()  # what waited for them is due now

    async def warm(self) -> None:
        """Build, in a thread once every channel and pager is, what an emergency uses first (aiogram's
        validators for an update, a reply and a page; twilio's REST resources): left to the first
        emergency after a start, they delayed its reply and its page by seconds
        (``benchmarks/emergency_bench.py``). ``hotline serve`` calls it once the server listens. A part
        that fails to warm is built on first use, as before."""
        await self.built.wait()
        for part in (*self.channels.values(), *self.pagers.values()):
            warm = getattr(part, "warm", None)
            if not callable(warm):
                continue
            try:
                await asyncio.to_thread(warm)
            except Exception as exc:  # a warm-up is an optimisation: never fatal
                log.warning("%s: not warmed up (%s); built on first use", type(part).__name__, exc)

    def door(self, name: str) -> Door:
        """What the channel ``name`` is given: the engine's door, its settings and strings, a wake-up."""
        engine = self.engine

        def on_forget(hook: ForgetHook) -> None:
            engine.deps.forget_hooks[name] = hook

        return Door(
            name=name,
            settings=self.settings,
            handle=engine.handle,
            check=engine.check,
            admit=engine.admit,
            is_choice=engine.is_choice,
            locale_of=engine.locale_of,
            wake=self.dispatcher.wake,
            strings=self.content.flows.strings,
            crypto=self.crypto,
            clock=self.clock,
            on_event=self.dispatcher.register,
            on_forget=on_forget,
            danger_level=engine.danger_level,
            forget=engine.forget,
        )

    def extras(self, lazy: Lazy) -> dict[str, Any]:
        """What else a registry entry's factory takes (``Lazy.needs``), by name."""
        given: dict[str, Callable[[], Any]] = {
            "store": lambda: ChannelStore(self.sessionmaker, self.crypto, self.clock),
            "desk": lambda: self.desk,
            "content": lambda: self.content,
            "inbox": lambda: Inbox(
                self.sessionmaker,
                self.crypto,
                self.clock,
                channel=lazy.name,
                db=self.db,
                listener=self.listener,
            ),
            "channel": lambda: self.channels[lazy.after or lazy.name],
        }
        return {need: given[need]() for need in lazy.needs}

    def build(self, lazy: Lazy, factory: Callable[..., Any] | None = None, *, pager: bool = False) -> Any:
        """Call a registry entry's factory (the one place that does): a channel gets its door, a pager
        the settings, and each what it ``needs``."""
        factory = factory or lazy.load()
        first = self.settings if pager else self.door(lazy.name)
        return factory(first, **self.extras(lazy))

    def failed(self) -> list[str]:
        """The channels and pagers that could not be built in the background."""
        return [name for name, p in (*self.channels.items(), *self.pagers.items()) if _failed(p)]

    async def purge(self) -> dict[str, int]:
        """Delete what is past the retention period (transcripts, idle conversations)."""
        from bot.console.sessions import purge_logins

        async with self.sessionmaker() as session, session.begin():
            counts = await purge(session, now=self.clock.now(), settings=self.settings)
            idle = timedelta(minutes=self.settings.console_idle_minutes)
            return counts | await purge_logins(session, now=self.clock.now(), idle=idle)

    async def refresh_keys(self) -> None:
        """Read the key versions in use (a rotation by ``hotline rotate-key`` reaches us this way)."""
        async with self.sessionmaker() as session:
            versions = await load_versions(session)
        if versions != self.crypto.versions:
            log.info("key versions in use: %s", versions)
            self.crypto.use(versions)

    async def _refresh_keys_forever(self) -> None:
        while True:
            await asyncio.sleep(self.settings.key_refresh_seconds)
            try:
                await self.refresh_keys()
            except Exception:
                log.exception("could not read the key versions; trying again later")

    async def _purge_forever(self) -> None:
        while True:
            try:
                counts = await self.purge()
                if any(counts.values()):
                    log.info("purged past retention: %s", counts)
            except Exception:
                log.exception("purge failed; trying again later")
            await asyncio.sleep(self.settings.purge_interval_seconds)

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        if self.listener is not None:
            await self.listener.close()
        for channel in self.channels.values():
            await channel.stop()
        for pager in self.pagers.values():
            close = getattr(pager, "close", None)
            if close is not None:
                await close()
        await self.db.dispose()


def _failed(thing: object) -> bool:
    return isinstance(thing, Pending) and thing.error is not None


def build_services(
    settings: Settings,
    *,
    clock: Clock | None = None,
    nlu: NLU | None = None,
    content: Content | None = None,
    channel_factories: Sequence[Lazy] | None = None,
    background: bool = False,
) -> Services:
    """Build the services from settings (content is checked: a content error stops the start).

    ``background``: the registry's heavy channels and pagers are built by :meth:`Services.start`, after
    this returns, with stand-ins until then (``hotline serve``: the web chat answers seconds earlier).
    """
    clock = clock or SystemClock()
    crypto = Crypto(settings.secret)
    content = content or load_content_cached(settings.flows_dir, settings.knowledge_dir, settings.model_dir)
    nlu = nlu or build_nlu(settings.knowledge_dir, rasa_url=settings.rasa_url, model_dir=settings.model_dir)
    db = make_engine(settings.database_url, sqlite_inline=settings.sqlite_inline)
    sessionmaker = make_sessionmaker(db)
    listener: Listener | None = None
    if settings.notify_enabled and db.dialect.name == "postgresql":
        announce(db)
        listener = Listener(settings.database_url)
    dispatcher = Dispatcher(
        sessionmaker,
        crypto,
        clock,
        lease_seconds=settings.dispatcher_lease_seconds,
        workers=settings.dispatcher_workers,
        max_attempts=settings.dispatcher_max_attempts,
        # The same id after a restart: the dispatcher takes back at start what its previous run held.
        instance_id=settings.instance_id or default_instance_id(settings.database_url, settings.lock_dir),
        lock_dir=settings.lock_dir,
    )
    deps = EngineDeps(
        settings=settings,
        sessionmaker=sessionmaker,
        crypto=crypto,
        clock=clock,
        flows=content.flows,
        knowledge=content.knowledge,
        nlu=nlu,
        safety=NluSafetyCheck(),
        bystander=Bystander.load(settings.knowledge_dir),
        after_commit=dispatcher.wake,
    )
    services = Services(
        settings=settings,
        db=db,
        sessionmaker=sessionmaker,
        crypto=crypto,
        clock=clock,
        content=content,
        nlu=nlu,
        engine=Engine(deps),
        dispatcher=dispatcher,
        desk=Desk(sessionmaker, crypto, clock, content.flows, frozenset()),
        listener=listener,
    )
    if listener is not None:  # another process wrote an event: look now, not at the next poll
        listener.subscribe(OUTBOX, dispatcher.wake)
    for entry in channel_factories if channel_factories is not None else CHANNEL_FACTORIES:
        if not entry.wanted(settings):
            continue
        if background and entry.background:
            pending = PendingChannel(entry.name, push=entry.push, prefix=entry.prefix)
            services.channels[entry.name] = pending
            services.later.append((pending, entry))
            continue
        channel = services.build(entry)
        if channel is not None:
            services.channels[channel.name] = channel
    deps.push_channels = frozenset(name for name, ch in services.channels.items() if ch.push)
    services.desk.push_channels = deps.push_channels
    for entry in PAGER_FACTORIES:
        if not entry.wanted(settings) or (entry.after is not None and entry.after not in services.channels):
            continue
        if background and entry.background:
            stand_in = PendingPager(entry.name)
            services.pagers[entry.name] = stand_in
            services.later.append((stand_in, entry))
            continue
        pager = services.build(entry, pager=True)
        if pager is not None:
            services.pagers[pager.route] = pager
    # The quick ones first (pagers of their own), then channels, then pagers built from a channel.
    services.later.sort(
        key=lambda item: 1 if isinstance(item[0], PendingChannel) else 2 if item[1].after else 0
    )
    dispatcher.register(DELIVER, services.deliver)
    Paging(
        sessionmaker, crypto, clock, settings, content.flows, deps.push_channels, services.pagers
    ).register(dispatcher)
    CheckinTimer(deps).register(dispatcher)
    AlertSender(deps).register(dispatcher)
    return services
