"""A connection pool that hands connections out in the order they were asked for.

SQLAlchemy's asyncio pool waits on an `asyncio.Queue`, which is not fair under load: a
returned connection wakes the oldest waiter, but a request arriving before that waiter runs
takes the connection first, and the woken waiter goes back to the end of the line. On a
saturated server some requests therefore waited many times the median (one worker, 32
connections on the jobs list: p50 141 ms, p99 711 ms). Here a returned connection goes
straight to the oldest waiter, and nobody takes a connection while others wait for one.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from typing import Any

from sqlalchemy.pool import AsyncAdaptedQueuePool
from sqlalchemy.util.queue import AsyncAdaptedQueue


class HandOffQueue:
    """The subset of `asyncio.Queue` the pool uses, first come first served."""

    def __init__(self, maxsize: int) -> None:
        self.maxsize = maxsize
        # Invariant: connections are idle here only while nobody waits for one.
        self._idle: deque[Any] = deque()
        self._waiters: deque[asyncio.Future[Any]] = deque()

    def qsize(self) -> int:
        return len(self._idle)

    def empty(self) -> bool:
        return not self._idle

    def full(self) -> bool:
        return 0 < self.maxsize <= len(self._idle)

    def put_nowait(self, item: Any) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(item)
                return
        if self.full():
            raise asyncio.QueueFull
        self._idle.append(item)

    async def put(self, item: Any) -> None:
        self.put_nowait(item)  # the pool never puts more than it holds

    def get_nowait(self) -> Any:
        if not self._idle:
            raise asyncio.QueueEmpty
        return self._idle.popleft()

    async def get(self) -> Any:
        if self._idle:
            return self._idle.popleft()
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            return await waiter
        except BaseException:  # timed out or cancelled
            if waiter.done() and not waiter.cancelled():
                self.put_nowait(waiter.result())  # handed over too late: pass it on
            else:
                waiter.cancel()
            raise


class _HandOffAdaptedQueue(AsyncAdaptedQueue[Any]):
    @property
    def _queue(self) -> Any:
        # Created on first use, inside the event loop that will use it.
        queue = self.__dict__.get("_hand_off")
        if queue is None:
            queue = self.__dict__["_hand_off"] = HandOffQueue(self.maxsize)
        return queue


class FairAsyncPool(AsyncAdaptedQueuePool):
    _queue_class = _HandOffAdaptedQueue


# SQLAlchemy logs a pool's events under the pool class's module, and keeps its own namespace
# at WARNING; this pool's "disposed" and "recreating" chatter is no more useful here.
_logger = logging.getLogger(__name__)
if _logger.level == logging.NOTSET:
    _logger.setLevel(logging.WARNING)
