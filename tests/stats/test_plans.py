"""The hot reads of stats and fleet walk their indexes (checked with EXPLAIN on both)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import Select, and_, text

from aerodrome.fleet import service as fleet
from aerodrome.stats import service as stats
from tests.conftest import Backend


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


async def test_a_cluster_summary_reads_its_checkins_by_index(backend: Backend) -> None:
    summary = fleet._summaries().where(fleet.checkins.c.cluster_id == "c-1")
    plan = await _plan(backend, summary)
    assert "ix_cluster_checkins_cluster_id_checked_in_at" in plan
