"""The hot reads of stats and fleet walk their indexes (checked with EXPLAIN on both)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Select, and_, text

from aerodrome.fleet import service as fleet
from aerodrome.stats import service as stats
from tests.conftest import Backend

T0 = datetime(2026, 1, 1, tzinfo=UTC)


async def _plan(backend: Backend, statement: Select[object]) -> str:
    dialect = backend.database.engine.dialect
    sql = str(statement.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
    prefix = "EXPLAIN QUERY PLAN " if backend.name == "sqlite" else "EXPLAIN "
    async with backend.database.engine.connect() as connection:
        if backend.name == "postgresql":
            await connection.execute(text("SET enable_seqscan = off"))
        rows = (await connection.execute(text(prefix + sql))).all()
    return " | ".join(str(r[-1]) for r in rows)


async def test_a_series_range_walks_the_index_in_order(backend: Backend) -> None:
    points = stats.points
    start, end = datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 2, 1, tzinfo=UTC)
    where = and_(
        points.c.test_id == uuid.uuid4(),
        points.c.date_entered >= start,
        points.c.date_entered < end,
    )
    plan = await _plan(backend, stats.series_statement(where, backend.name))
    assert "ix_stats_points_test_id_date_entered_id" in plan
    assert "TEMP B-TREE" not in plan  # SQLite: no sort step
    assert "Sort" not in plan  # PostgreSQL: the index gives the order


async def test_a_long_series_range_walks_the_index_on_postgresql(backend: Backend) -> None:
    """With the statistics of a table of some size, PostgreSQL would rather sort the rows of
    a bitmap or sequential scan than walk the index (rows of ~450 bytes: a window of 10,000
    points spread over the table's pages, as in the benchmark)."""
    if backend.name != "postgresql":
        pytest.skip("SQLite has no bitmap scans and plans without statistics")
    async with backend.database.unit_of_work() as session:
        await stats.add_point(session, project="p", test="t", data={}, date_entered=T0)
        await session.execute(
            text(
                """
                INSERT INTO stats_points (test_id, date_entered, date_entered_iso, data)
                SELECT id, CAST(:t0 AS timestamptz) + i * interval '1 minute', '',
                       json_build_object('pad', repeat('x', 400))
                FROM stats_tests, generate_series(1, 30000) AS i
                """
            ),
            {"t0": T0},
        )
        test_id = (await session.execute(stats.tests.select())).one().id
    async with backend.database.unit_of_work() as session:
        await session.execute(text("ANALYZE stats_points"))
    points = stats.points
    window = and_(
        points.c.test_id == test_id,
        points.c.date_entered >= T0 + timedelta(days=5),
        points.c.date_entered < T0 + timedelta(days=12),
    )
    dialect = backend.database.engine.dialect
    sql = stats.series_statement(window, backend.name).compile(
        dialect=dialect, compile_kwargs={"literal_binds": True}
    )
    async with backend.database.engine.connect() as connection:
        plan = " | ".join(r[0] for r in await connection.execute(text(f"EXPLAIN {sql}")))
    assert "Index Scan using ix_stats_points_test_id_date_entered_id" in plan, plan
    assert "Sort" not in plan, plan


async def test_a_cluster_summary_reads_its_checkins_by_index(backend: Backend) -> None:
    summary = fleet._summaries().where(fleet.checkins.c.cluster_id == "c-1")
    plan = await _plan(backend, summary)
    assert "ix_cluster_checkins_cluster_id_checked_in_at" in plan
