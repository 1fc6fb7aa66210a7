"""The hot statements of runs, jobs, nodes, claims and expiry are served by indexes (EXPLAIN)."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from aerodrome.identity.principal import Identity, TeamRef
from aerodrome.pools import service as pools
from aerodrome.work import expiry, queues, runs
from tests.conftest import Backend

MEMBER = Identity(kind="user", id=None, name="member", teams=(TeamRef(uuid.uuid4(), "red"),))
NOW = datetime(2026, 1, 1, tzinfo=UTC)
STATEMENTS: dict[str, Any] = {
    "latest runs": runs.runs_statement(MEMBER, runs.RunFilter(), limit=100, offset=0),
    "runs by branch and suite": runs.runs_statement(
        MEMBER, runs.RunFilter(equals={"branch": "main", "suite": "rados"}), limit=100, offset=0
    ),
    "runs of a day": runs.runs_statement(
        MEMBER, runs.RunFilter(scheduled_from=NOW, scheduled_before=NOW), limit=100, offset=0
    ),
    "runs with queued jobs": runs.runs_statement(
        MEMBER, runs.RunFilter(with_queued_jobs=True), limit=100, offset=0
    ),
    "jobs of a run": runs.jobs_of_run().params(run_id=uuid.uuid4()),
    "free nodes": pools.free_nodes(pools.NodeFilter(locked=False, up=True, machine_types=["a"]), 2),
    "next claim": queues.next_claim(uuid.uuid4()),
    "silent jobs": expiry.silent_jobs("running", NOW),
}


@pytest.mark.parametrize("name", list(STATEMENTS))
async def test_statement_uses_an_index(backend: Backend, name: str) -> None:
    dialect = backend.database.engine.dialect
    compiled = STATEMENTS[name].compile(dialect=dialect, compile_kwargs={"literal_binds": True})
    async with backend.database.engine.connect() as connection:
        if backend.name == "sqlite":
            rows = await connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}")
            steps = [str(row[-1]) for row in rows]
            # A full table walk is "SCAN <table>" without an index.
            walks = [s for s in steps if s.startswith("SCAN") and "INDEX" not in s]
            assert "INDEX" in " ".join(steps), steps
            assert not walks, steps
        else:
            # Nearly empty tables: forbidding sequential scans shows that an index can serve it.
            await connection.exec_driver_sql("SET enable_seqscan = off")
            rows = await connection.exec_driver_sql(f"EXPLAIN {compiled}")
            plan = " | ".join(str(row[0]) for row in rows)
            assert "Seq Scan" not in plan, plan


async def test_expiry_walks_paddles_jobs_only(backend: Backend) -> None:
    """DCI jobs are never expired: the round, its UPDATE as well as the subquery that picks
    the jobs, walks the partial index of paddles jobs and nothing else of `jobs`. (Not asked
    of the queued ones: on empty tables PostgreSQL may as well pick the index of claimable
    jobs for the subquery, whose cost is the same.)"""
    dialect = backend.database.engine.dialect
    statement = expiry.expire_statement("running", NOW, NOW)
    compiled = statement.compile(dialect=dialect, compile_kwargs={"literal_binds": True})
    explain = "EXPLAIN QUERY PLAN" if backend.name == "sqlite" else "EXPLAIN"
    async with backend.database.engine.connect() as connection:
        if backend.name == "postgresql":
            await connection.exec_driver_sql("SET enable_seqscan = off")
        rows = await connection.exec_driver_sql(f"{explain} {compiled}")
        plan = " | ".join(str(row[-1]) for row in rows)
    walked = set(re.findall(r"ix_jobs_\w+|pk_jobs", plan))
    assert "ix_jobs_paddles_silent" in walked, plan
    assert walked <= {"ix_jobs_paddles_silent", "pk_jobs"}, plan
