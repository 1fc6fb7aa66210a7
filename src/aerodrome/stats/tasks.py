"""Background work of the stats domain, run by every server process."""

from __future__ import annotations

import asyncio
import logging
import time

from aerodrome import periodic
from aerodrome.db.session import Database
from aerodrome.settings import Settings
from aerodrome.stats import keys, service

logger = logging.getLogger("aerodrome.stats")


async def clean_nonces_periodically(
    database: Database, settings: Settings, stop: asyncio.Event
) -> None:
    """Remove expired OAuth nonces now and every `nonce_cleanup_seconds` (daily by default)
    until `stop` is set.

    Several processes may do it at once: deleting expired rows twice is harmless.
    """

    async def clean() -> None:
        async with database.unit_of_work() as session:
            removed = await keys.clean_nonces(
                session, window_seconds=settings.oauth_timestamp_window
            )
        if removed:
            logger.info("removed %d expired OAuth nonces", removed)

    await periodic.repeat(
        clean, settings.nonce_cleanup_seconds, stop, "cleaning expired OAuth nonces"
    )


async def seal_days_periodically(
    database: Database, settings: Settings, stop: asyncio.Event
) -> None:
    """Seal every day that is ready, one day per transaction, then look again every
    `stats_seal_seconds` until `stop` is set.

    Several processes share the work: each skips a day another one has locked. Sealing is
    background work: it never takes more than half of the time.
    """

    async def seal_ready_days() -> None:
        sealed = 0
        while not stop.is_set():
            began = time.monotonic()
            async with database.unit_of_work() as session:
                if not await service.seal_next_day(session):
                    break
            sealed += 1
            # Rest as long as the day took: requests get at least half of the process
            # and, on SQLite, writers waiting for the database lock get their turn.
            await asyncio.sleep(time.monotonic() - began)
        if sealed:
            logger.info("sealed %d days of stats points", sealed)

    await periodic.repeat(seal_ready_days, settings.stats_seal_seconds, stop, "sealing stats days")
