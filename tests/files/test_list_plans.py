"""The file and result lists are served by their indexes (checked with EXPLAIN): all files,
a job's, a component's, and a job's results, as a team member lists them."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import ColumnElement

from aerodrome.db.resources import ListQuery, Resource, ScopeFor, page_statement
from aerodrome.files.resource import FILES, file_scope
from aerodrome.identity.access import scope_for
from aerodrome.identity.principal import Identity, TeamRef
from aerodrome.results.resource import RESULTS
from tests.conftest import Backend

MEMBER = Identity(kind="user", id=None, name="member", teams=(TeamRef(uuid.uuid4(), "red"),))
SOME_ID = uuid.uuid4()

CASES: dict[str, tuple[Resource, tuple[ColumnElement[bool], ...], ScopeFor]] = {
    "files": (FILES, (), file_scope(MEMBER)),
    "job files": (FILES, (FILES.column("job_id") == SOME_ID,), file_scope(MEMBER)),
    "component files": (FILES, (FILES.column("component_id") == SOME_ID,), file_scope(MEMBER)),
    "job results": (RESULTS, (RESULTS.column("job_id") == SOME_ID,), scope_for(MEMBER)),
}


@pytest.mark.parametrize("case", CASES, ids=str)
async def test_list_uses_an_index(backend: Backend, case: str) -> None:
    resource, filters, scope = CASES[case]
    statement = page_statement(resource, ListQuery(filters=filters), scope)
    dialect = backend.database.engine.dialect
    sql = str(statement.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
    async with backend.database.engine.connect() as connection:
        if backend.name == "sqlite":
            rows = await connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}")
            plan = " | ".join(str(row[-1]) for row in rows)
            assert "INDEX" in plan, plan
            assert "TEMP B-TREE FOR ORDER BY" not in plan, plan
        else:
            # Nearly empty tables: forbidding sequential scans shows an index can serve it.
            await connection.exec_driver_sql("SET enable_seqscan = off")
            rows = await connection.exec_driver_sql(f"EXPLAIN {sql}")
            plan = " | ".join(str(row[0]) for row in rows)
            assert "Seq Scan" not in plan, plan
