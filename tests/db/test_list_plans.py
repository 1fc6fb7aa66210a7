"""Every list endpoint's default query is served by an index (checked with EXPLAIN)."""

from __future__ import annotations

import uuid

import pytest

from aerodrome.catalog import service as catalog
from aerodrome.db.resources import ListQuery, Resource, page_statement
from aerodrome.identity import service as identity
from aerodrome.identity.access import scope_for
from aerodrome.identity.principal import Identity, TeamRef
from tests.conftest import Backend

RESOURCES = [
    identity.TEAMS,
    identity.USERS,
    identity.REMOTECIS,
    identity.FEEDERS,
    catalog.PRODUCTS,
    catalog.COMPONENTTYPES,
    catalog.COMPONENTS,
]
MEMBER = Identity(
    kind="user",
    id=None,
    name="member",
    teams=(TeamRef(uuid.uuid4(), "red"),),
)


@pytest.mark.parametrize("resource", RESOURCES, ids=lambda r: r.plural)
async def test_default_list_uses_an_index(backend: Backend, resource: Resource) -> None:
    statement = page_statement(resource, ListQuery(), scope_for(MEMBER))
    dialect = backend.database.engine.dialect
    sql = str(statement.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
    async with backend.database.engine.connect() as connection:
        if backend.name == "sqlite":
            plan = " | ".join(
                str(row[-1])
                for row in await connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}")
            )
            assert "INDEX" in plan, plan
            assert "TEMP B-TREE FOR ORDER BY" not in plan, plan
        else:
            # The tables are nearly empty here, where a sort of a handful of rows is what the
            # planner rightly picks; forbidding sequential scans shows that an index can
            # serve the list once they are not (the benchmarks show the ordered index walk).
            await connection.exec_driver_sql("SET enable_seqscan = off")
            rows = await connection.exec_driver_sql(f"EXPLAIN {sql}")
            plan = " | ".join(str(row[0]) for row in rows)
            assert "Seq Scan" not in plan, plan


@pytest.mark.parametrize(
    ("table", "column"),
    [
        ("jobs", "previous_job_id"),
        ("jobs", "update_previous_job_id"),
        ("job_claims", "job_id"),
    ],
)
async def test_references_to_a_job_are_found_by_index(
    backend: Backend, table: str, column: str
) -> None:
    """What deleting a job checks (the foreign keys that point at it) walks an index."""
    sql = f"SELECT 1 FROM {table} WHERE {column} = '{uuid.uuid4().hex}'"
    async with backend.database.engine.connect() as connection:
        if backend.name == "sqlite":
            rows = await connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}")
            plan = " | ".join(str(row[-1]) for row in rows)
            assert f"INDEX ix_{table}_{column}" in plan, plan
        else:
            await connection.exec_driver_sql("SET enable_seqscan = off")
            rows = await connection.exec_driver_sql(f"EXPLAIN {sql}::uuid")
            plan = " | ".join(str(row[0]) for row in rows)
            assert f"ix_{table}_{column}" in plan, plan
