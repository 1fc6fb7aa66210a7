"""Migrations 0010 and 0013: points stored before them answer the same bytes after them, read
from the points and from the day 0013 lists for sealing."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import anyio
import pytest
from alembic import command
from sqlalchemy import Uuid, column, insert, inspect, table

from aerodrome.db.migrate import alembic_config, upgrade
from aerodrome.db.session import Database
from aerodrome.db.types import JSONType, UTCDateTime
from aerodrome.settings import Settings
from aerodrome.stats import service
from tests.conftest import _create_postgres_database, _drop_postgres_database

T0 = datetime(2026, 3, 1, tzinfo=UTC)
# As the table was before 0010: no `date_entered_iso`, data as jsonb on PostgreSQL.
OLD_POINTS = table(
    "stats_points",
    column("test_id", Uuid()),
    column("date_entered", UTCDateTime()),
    column("data", JSONType),
)
PROJECTS = table(
    "stats_projects", column("id", Uuid()), column("name"), column("created_at", UTCDateTime())
)
TESTS = table(
    "stats_tests",
    column("id", Uuid()),
    column("project_id", Uuid()),
    column("name"),
    column("created_at", UTCDateTime()),
)


@pytest.fixture(params=["sqlite", "postgresql"])
async def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"
        return
    url = await _create_postgres_database()
    try:
        yield url
    finally:
        await _drop_postgres_database(url)


async def _store_before_0010(database: Database) -> None:
    project_id, test_id = uuid.uuid4(), uuid.uuid4()
    created = {"created_at": T0}
    points = [
        {"date_entered": T0 + timedelta(microseconds=250), "data": {"zz": 2, "a": [1.5]}},
        # Given in another zone: stored, and rendered, in UTC.
        {"date_entered": T0.astimezone(timezone(timedelta(hours=2))), "data": {"v": 1}},
    ]
    async with database.unit_of_work() as session:
        await session.execute(insert(PROJECTS).values(id=project_id, name="p", **created))
        await session.execute(
            insert(TESTS).values(id=test_id, project_id=project_id, name="t", **created)
        )
        await session.execute(insert(OLD_POINTS), [{"test_id": test_id, **p} for p in points])


async def test_existing_points_keep_their_wire_bytes(empty_url: str) -> None:
    await upgrade(empty_url, "0007")
    database = Database(Settings(database_url=empty_url))
    try:
        await _store_before_0010(database)
        await upgrade(empty_url, "0013")
        read = await _read_day(database)
        async with database.unit_of_work() as session:
            assert await service.seal_next_day(session)
            assert not await service.seal_next_day(session)
        sealed = await _read_day(database)
    finally:
        await database.dispose()
    assert sealed.json() == read.json()
    # jsonb rendered the data with its own key order and spacing; the migration keeps it.
    if empty_url.startswith("postgresql"):
        data = ('{"v": 1}', '{"a": [1.5], "zz": 2}')
    else:
        data = ('{"v":1}', '{"zz":2,"a":[1.5]}')
    assert read.json().decode() == (
        f'[{{"id":2,"date_entered":"2026-03-01T00:00:00+00:00","data":{data[0]}}},'
        f'{{"id":1,"date_entered":"2026-03-01T00:00:00.000250+00:00","data":{data[1]}}}]'
    )


async def _read_day(database: Database) -> service.Series:
    async with database.unit_of_work(write=False) as session:
        return await service.list_points(
            session, project="p", test="t", start=T0, end=T0 + timedelta(days=1)
        )


async def test_downgrade_restores_the_old_table(empty_url: str) -> None:
    """Down from 0013 (sealed days dropped) and 0010: points are stored as before them."""
    await upgrade(empty_url, "0013")
    await anyio.to_thread.run_sync(command.downgrade, alembic_config(empty_url), "0007")
    database = Database(Settings(database_url=empty_url))
    try:
        await _store_before_0010(database)
        async with database.unit_of_work(write=False) as session:
            tables = await session.run_sync(lambda s: inspect(s.connection()).get_table_names())
    finally:
        await database.dispose()
    assert "stats_day_chunks" not in tables
