"""A connection pool that hands a returned connection to the session that has waited longest.

SQLAlchemy's asyncio pool keeps idle connections in an :class:`asyncio.Queue`. When a connection comes
back, the queue wakes its first waiter, but the connection stays in the queue until that waiter runs; a
session that asks in between takes it at once, and the woken waiter goes back to the end of the line. With
one SQLite connection per process and a flood of messages, a message can lose its turn again and again:
most wait a few milliseconds, a few wait seconds (the p99), however urgent. Here a returned connection goes
straight to the oldest waiter, and nobody takes an idle connection while others wait: first come, first
served.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Any, TypeVar

from sqlalchemy.pool import AsyncAdaptedQueuePool
from sqlalchemy.util import await_only
from sqlalchemy.util.queue import AsyncAdaptedQueue, Empty, Full

T = TypeVar("T")


class FairQueue(AsyncAdaptedQueue[T]):
    """First come, first served: :meth:`put_nowait` hands the item to the oldest waiter, if any."""

    def __init__(self, maxsize: int = 0, use_lifo: bool = False) -> None:
        super().__init__(maxsize, use_lifo)
        self._items: deque[T] = deque()
        self._waiters: deque[asyncio.Future[T]] = deque()

    def empty(self) -> bool:
        return not self._items

    def full(self) -> bool:
        return 0 < self.maxsize <= len(self._items)

    def qsize(self) -> int:
        return len(self._items)

    def put_nowait(self, item: T) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():  # a waiter that timed out or was cancelled is passed over
                waiter.set_result(item)
                return
        if self.full():
            raise Full()
        if self.use_lifo:
            self._items.appendleft(item)
        else:
            self._items.append(item)

    def put(self, item: T, block: bool = True, timeout: float | None = None) -> None:
        self.put_nowait(item)  # the pool never blocks on a put: it never holds more than it made

    def get_nowait(self) -> T:
        if not self._items:
            raise Empty()
        return self._items.popleft()

    def get(self, block: bool = True, timeout: float | None = None) -> T:
        if self._items:  # an idle connection exists only while nobody waits (put hands over)
            return self._items.popleft()
        if not block:
            raise Empty()
        waiter: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            result: T = await_only(asyncio.wait_for(waiter, timeout))
        except BaseException as error:
            if waiter.done() and not waiter.cancelled():
                # handed a connection just as the wait ended (cancelled, timed out): pass it on, or the
                # pool would count it as in use for ever
                self.put_nowait(waiter.result())
            else:
                waiter.cancel()
            if isinstance(error, asyncio.TimeoutError):
                raise Empty() from error
            raise
        return result


class FairAsyncPool(AsyncAdaptedQueuePool):
    """SQLAlchemy's asyncio queue pool with a :class:`FairQueue`."""

    _queue_class: Any = FairQueue
