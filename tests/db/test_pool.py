"""The connection pool: it keeps its connections under load, and hands them out in the order
they were asked for."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import create_async_engine

from aerodrome.db.pool import FairAsyncPool, HandOffQueue
from aerodrome.db.session import Database
from aerodrome.settings import Settings
from tests.conftest import Backend


def _database(backend: Backend, pool_size: int) -> Database:
    return Database(
        Settings(
            database_url=backend.url, data_dir=backend.settings.data_dir, db_pool_size=pool_size
        )
    )


async def test_a_load_above_the_pool_size_reuses_the_pool_connections(backend: Backend) -> None:
    database = _database(backend, pool_size=3)
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


async def test_a_returned_connection_goes_to_the_request_waiting_longest(
    backend: Backend,
) -> None:
    database = _database(backend, pool_size=1)
    served: list[str] = []

    async def request(name: str) -> None:
        async with database.unit_of_work(write=False) as session:
            await session.execute(text("SELECT 1"))
            served.append(name)

    try:
        holder = await database.engine.connect()
        waiting = asyncio.create_task(request("waiting"))
        await asyncio.sleep(0.1)  # it is now in line for the one connection
        await holder.close()
        # A request arriving after the hand-back, before the waiting one has run again.
        await request("newcomer")
        await waiting
    finally:
        await database.dispose()
    assert served == ["waiting", "newcomer"]


async def test_the_hand_off_queue_serves_waiters_first_come_first_served() -> None:
    queue = HandOffQueue(maxsize=2)
    waiters = [asyncio.create_task(queue.get()) for _ in range(3)]
    await asyncio.sleep(0)
    for item in ("a", "b", "c"):
        queue.put_nowait(item)
        with pytest.raises(asyncio.QueueEmpty):
            queue.get_nowait()  # promised to a waiter, not left for the taking
    assert [await w for w in waiters] == ["a", "b", "c"]
    queue.put_nowait("d")
    queue.put_nowait("e")
    assert queue.full()
    with pytest.raises(asyncio.QueueFull):
        queue.put_nowait("f")
    assert [queue.get_nowait(), queue.get_nowait()] == ["d", "e"]


async def test_a_waiter_that_gives_up_does_not_lose_the_item() -> None:
    queue = HandOffQueue(maxsize=1)
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(queue.get(), timeout=0.01)
    patient = asyncio.create_task(queue.get())
    leaving = asyncio.create_task(queue.get())
    await asyncio.sleep(0)
    queue.put_nowait("first")  # handed to `patient`
    queue.put_nowait("second")  # handed to `leaving`, which is cancelled before it runs
    leaving.cancel()
    assert await patient == "first"
    with pytest.raises(asyncio.CancelledError):
        await leaving
    assert queue.get_nowait() == "second"


async def test_a_request_that_waits_too_long_times_out_and_the_pool_recovers(
    backend: Backend,
) -> None:
    engine = create_async_engine(
        backend.url, poolclass=FairAsyncPool, pool_size=1, max_overflow=0, pool_timeout=0.2
    )
    try:
        holder = await engine.connect()
        with pytest.raises(PoolTimeout):  # answered 503 by the API (api/errors.py)
            await engine.connect()
        await holder.close()
        async with engine.connect() as connection:
            assert (await connection.execute(text("SELECT 1"))).scalar_one() == 1
    finally:
        await engine.dispose()


async def test_the_pool_logs_no_routine_events(
    backend: Backend, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)  # what the server's root logger lets through
    database = _database(backend, pool_size=1)
    async with database.unit_of_work(write=False) as session:
        await session.execute(text("SELECT 1"))
    await database.dispose()
    assert not [r for r in caplog.records if r.name.startswith("aerodrome.db.pool")]
