"""The connection pool keeps its connections: a load above the pool size waits for one
instead of opening (and, on hand-back, closing) a database session per extra request."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import event, text

from aerodrome.db.session import Database
from aerodrome.settings import Settings
from tests.conftest import Backend


async def test_a_load_above_the_pool_size_reuses_the_pool_connections(backend: Backend) -> None:
    settings = Settings(
        database_url=backend.url, data_dir=backend.settings.data_dir, db_pool_size=3
    )
    database = Database(settings)
    opened: list[Any] = []
    event.listen(database.engine.sync_engine, "connect", lambda connection, _: opened.append(1))
    most_at_once = 0
    checked_out = 0

    async def request(write: bool) -> None:
        nonlocal most_at_once, checked_out
        async with database.unit_of_work(write=write) as session:
            await session.execute(text("SELECT 1"))
            checked_out += 1
            most_at_once = max(most_at_once, checked_out)
            await asyncio.sleep(0.005)  # hold the connection while others ask for one
            checked_out -= 1

    try:
        for _ in range(5):
            await asyncio.gather(*(request(write=i % 4 == 0) for i in range(12)))
    finally:
        await database.dispose()
    assert most_at_once == 3
    assert len(opened) == 3
