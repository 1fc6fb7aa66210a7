"""Background work that every server process repeats until it stops (dead-job expiry, row
count folding, sealing stats days)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

logger = logging.getLogger("aerodrome.periodic")


async def repeat(
    work: Callable[[], Awaitable[None]], every: float, stop: asyncio.Event, name: str
) -> None:
    """Do `work` now and then every `every` seconds until `stop` is set. A failed round is
    logged and retried on the next one: the loop must not die."""
    while not stop.is_set():
        try:
            await work()
        except Exception:
            logger.exception("%s failed", name)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), every)
