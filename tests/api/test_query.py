"""The `where` and `query` filters: parser errors, and results on real databases."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Integer,
    MetaData,
    String,
    Table,
    Uuid,
    insert,
    select,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from aerodrome.api.query import QueryError, compile_query, compile_where
from aerodrome.db.types import UTCDateTime
from tests.conftest import Backend

metadata = MetaData()
things = Table(
    f"query_things_{uuid.uuid4().hex[:8]}",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("name", String(50)),
    Column("size", Integer),
    Column("enabled", Boolean),
    Column("created_at", UTCDateTime()),
    Column("tags", JSON().with_variant(postgresql.JSONB(), "postgresql")),
    Column("note", String(50), nullable=True),
)
FIELDS = {c.name: c for c in things.c}
ROWS = [
    ("alpha", 1, True, 2024, ["ga", "x86"], None),
    ("Beta", 5, False, 2025, ["nightly"], "n"),
    ("gamma_1", 10, True, 2026, ["ga", "arm"], "g"),
    ("gamma%2", 20, False, 2026, [], None),
    ("delta", 50, True, 2023, None, "d"),
]


@pytest.fixture
async def engine(backend: Backend) -> AsyncIterator[AsyncEngine]:
    engine = create_async_engine(backend.url)
    async with engine.begin() as connection:
        await connection.run_sync(metadata.create_all)
        await connection.execute(
            insert(things),
            [
                {
                    "id": uuid.uuid4(),
                    "name": name,
                    "size": size,
                    "enabled": enabled,
                    "created_at": datetime(year, 1, 1, tzinfo=UTC),
                    "tags": tags,
                    "note": note,
                }
                for name, size, enabled, year, tags, note in ROWS
            ],
        )
    yield engine
    async with engine.begin() as connection:
        await connection.run_sync(metadata.drop_all)
    await engine.dispose()


async def _names(engine: AsyncEngine, clause: Any) -> set[str]:
    async with engine.connect() as connection:
        rows = await connection.execute(select(things.c.name).where(clause))
        return {r[0] for r in rows}


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        ("name:alpha", {"alpha"}),
        ("enabled:true,size:10", {"gamma_1"}),
        ("name:amm*", {"gamma_1", "gamma%2"}),
        ("name:a%*", {"gamma%2"}),
        ("name:a_*", {"gamma_1"}),
        ("note:", {"alpha", "gamma%2"}),
        ("created_at:2026-01-01T00:00:00", {"gamma_1", "gamma%2"}),
        ("", {r[0] for r in ROWS}),
    ],
)
async def test_where(engine: AsyncEngine, where: str, expected: set[str]) -> None:
    assert await _names(engine, compile_where(where, FIELDS)) == expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("eq(name,alpha)", {"alpha"}),
        ("ne(enabled,true)", {"Beta", "gamma%2"}),
        ("and(ge(size,5),lt(size,50))", {"Beta", "gamma_1", "gamma%2"}),
        ("or(le(size,1),gt(size,20))", {"alpha", "delta"}),
        ("not(eq(enabled,1))", {"Beta", "gamma%2"}),
        ("like(name,gam%)", {"gamma_1", "gamma%2"}),
        ("ilike(name,beta)", {"Beta"}),
        ("contains(tags,ga)", {"alpha", "gamma_1"}),
        ("contains(tags,ga,arm)", {"gamma_1"}),
        ("not_contains(tags,ga)", {"Beta", "gamma%2", "delta"}),
        ("not_contains(tags,ga,nightly)", {"gamma%2", "delta"}),
        ("null(note)", {"alpha", "gamma%2"}),
        ("gt(created_at,2025-06-01T00:00:00+00:00)", {"gamma_1", "gamma%2"}),
        (" and( eq(name, 'alpha') , or(eq(size,1), eq(size,2)) ) ", {"alpha"}),
        ('eq(name,"a,b)")', set()),
    ],
)
async def test_query(engine: AsyncEngine, query: str, expected: set[str]) -> None:
    assert await _names(engine, compile_query(query, FIELDS)) == expected


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("eq(colour,red)", "unknown field 'colour'; valid fields: created_at, enabled, id, name"),
        ("equals(name,a)", "unknown operator 'equals'; valid operators: and, contains, eq"),
        ("eq(name)", "eq() takes 2 arguments, got 1"),
        ("null(name,a)", "null() takes 1 argument, got 2"),
        ("eq(name,a", "query ends early"),
        ("eq(name,a))", "unexpected ')' after the end of the query"),
        ("and(name)", "expected '(' after name"),
        ("eq(size,big)", "'big' is not a valid value for 'size'"),
        ("eq(enabled,maybe)", "'maybe' is not a valid value for 'enabled'"),
        ("eq(id,nope)", "'nope' is not a valid value for 'id'"),
        ("eq(tags,ga)", "cannot compare the list field 'tags'"),
        ("contains(name,a)", "contains() needs a list field"),
        ("contains(tags)", "contains() needs at least one value"),
        ("like(size,1%)", "like() needs a text field"),
        ("not(eq(size,1),eq(size,2))", "not() takes exactly one expression"),
        ("and(" * 40 + "eq(size,1)" + ")" * 40, "nests deeper than 32 levels"),
        ("eq(name," + "x" * 5000 + ")", "longer than 4096 characters"),
    ],
)
def test_query_errors(query: str, message: str) -> None:
    with pytest.raises(QueryError) as caught:
        compile_query(query, FIELDS)
    assert message in str(caught.value)


@pytest.mark.parametrize(
    ("where", "message"),
    [
        ("colour:red", "unknown field 'colour'"),
        ("name", "must be field:value"),
        ("size:x", "not a valid value"),
    ],
)
def test_where_errors(where: str, message: str) -> None:
    with pytest.raises(QueryError, match=message):
        compile_where(where, FIELDS)


def test_values_are_bound_not_inlined() -> None:
    clause = compile_query("eq(name,x'; DROP TABLE users; --)", FIELDS)
    compiled = clause.compile(dialect=postgresql.dialect())  # type: ignore[no-untyped-call]
    assert "DROP" not in str(compiled)
    assert "x'; DROP TABLE users; --" in compiled.params.values()
