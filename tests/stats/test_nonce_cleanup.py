"""The server removes expired OAuth nonces by itself (the task its lifespan starts)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import insert, select

from aerodrome.db.types import utcnow
from aerodrome.stats import tasks
from aerodrome.stats.models import OAuthNonce
from tests.conftest import Backend


async def _nonces(backend: Backend) -> list[str]:
    async with backend.database.unit_of_work(write=False) as session:
        return list((await session.execute(select(OAuthNonce.nonce))).scalars())


async def test_periodic_cleanup_removes_expired_nonces(backend: Backend) -> None:
    async with backend.database.unit_of_work() as session:
        await session.execute(
            insert(OAuthNonce.__table__),
            [
                {"client_key": "k", "nonce": "expired", "timestamp": 1, "used_at": utcnow()},
                {"client_key": "k", "nonce": "fresh", "timestamp": 2, "used_at": utcnow()},
            ],
        )
    settings = backend.settings.model_copy(
        update={"nonce_cleanup_seconds": 0.05, "oauth_timestamp_window": 10}
    )
    stop = asyncio.Event()
    cleaner = asyncio.create_task(tasks.clean_nonces_periodically(backend.database, settings, stop))
    try:
        await asyncio.sleep(0.2)
        assert sorted(await _nonces(backend)) == ["expired", "fresh"]  # neither expired yet
        async with backend.database.unit_of_work() as session:
            await session.execute(
                OAuthNonce.__table__.update()
                .where(OAuthNonce.nonce == "expired")
                .values(used_at=utcnow() - timedelta(seconds=60))
            )
        for _ in range(50):
            if await _nonces(backend) == ["fresh"]:
                break
            await asyncio.sleep(0.05)
        assert await _nonces(backend) == ["fresh"]
    finally:
        stop.set()
        await asyncio.wait_for(cleaner, 5)
