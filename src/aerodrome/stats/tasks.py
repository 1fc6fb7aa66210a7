"""Background work of the stats domain, run by every server process."""

from __future__ import annotations

import asyncio
import logging

from aerodrome.db.session import Database
from aerodrome.settings import Settings
from aerodrome.stats import keys

logger = logging.getLogger("aerodrome.stats")


async def clean_nonces_periodically(database: Database, settings: Settings) -> None:
    """Remove expired OAuth nonces now and every `nonce_cleanup_seconds` (daily by default).

    Several processes may do it at once: deleting expired rows twice is harmless.
    """
    while True:
        try:
            async with database.unit_of_work() as session:
                removed = await keys.clean_nonces(
                    session, window_seconds=settings.oauth_timestamp_window
                )
            if removed:
                logger.info("removed %d expired OAuth nonces", removed)
        except Exception:  # a failed round must not stop the next ones
            logger.exception("cleaning expired OAuth nonces failed")
        await asyncio.sleep(settings.nonce_cleanup_seconds)
