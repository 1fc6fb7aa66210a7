"""The `where` and `query` list filters: parsing, errors, and the rows they select on SQLite and
PostgreSQL (both backends must return exactly the same rows)."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    ColumnElement,
    DateTime,
    Dialect,
    Enum,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Uuid,
    and_,
    insert,
    not_,
    null,
    or_,
    select,
    true,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.types import TypeDecorator

from aerodrome.api.query import QueryError, compile_query, compile_where
from aerodrome.db.types import UTCDateTime

POSTGRES_URL = os.environ.get(
    "AERODROME_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)

_metadata = MetaData()
things = Table(
    # Unique, so that concurrent runs sharing the PostgreSQL database do not collide.
    f"query_things_{uuid.uuid4().hex[:12]}",
    _metadata,
    Column("id", Uuid, primary_key=True),
    Column("name", String(50), nullable=False),
    Column("size", Integer),
    Column("enabled", Boolean),
    Column("created_at", DateTime(timezone=True)),
    Column("tags", JSON().with_variant(postgresql.JSONB(), "postgresql")),
    Column("note", String(50), nullable=True),
)
FIELDS: dict[str, ColumnElement[Any]] = {column.name: column for column in things.c}
POSTGRESQL: Dialect = postgresql.dialect()  # type: ignore[no-untyped-call]
SQLITE: Dialect = sqlite.dialect()
VALID_FIELDS = "created_at, enabled, id, name, note, size, tags"


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


ROWS: list[dict[str, Any]] = [
    {
        "id": uuid.UUID(int=1),
        "name": "alpha",
        "size": 1,
        "enabled": True,
        "created_at": _at("2024-01-01T00:00:00"),
        "tags": ["ga", "x86"],
        "note": None,
    },
    {
        "id": uuid.UUID(int=2),
        "name": "Beta",
        "size": 5,
        "enabled": False,
        "created_at": _at("2025-01-01T00:00:00"),
        "tags": ["nightly"],
        "note": "n, 1)",
    },
    {
        "id": uuid.UUID(int=3),
        "name": "gamma_1",
        "size": 10,
        "enabled": True,
        "created_at": _at("2026-01-01T00:00:00"),
        "tags": ["ga", "arm"],
        "note": "key:value",
    },
    {
        "id": uuid.UUID(int=4),
        "name": "gamma%2",
        "size": 20,
        "enabled": False,
        "created_at": _at("2026-03-01T00:00:00"),
        "tags": [],
        "note": None,
    },
    {
        "id": uuid.UUID(int=5),
        "name": "delta",
        "size": 50,
        "enabled": None,
        "created_at": _at("2023-06-15T12:00:00"),
        "tags": null(),  # SQL NULL
        "note": "d",
    },
    {
        "id": uuid.UUID(int=6),
        "name": "e[1]*",
        "size": None,
        "enabled": True,
        "created_at": _at("2025-06-01T10:00:00"),
        "tags": None,  # the JSON value null
        "note": "É",
    },
    {
        "id": uuid.UUID(int=7),
        "name": "zeta",
        "size": 100,
        "enabled": None,
        "created_at": _at("2020-02-29T00:00:00"),
        "tags": "ga",  # a JSON string, not a list: it contains nothing
        "note": "z",
    },
]
ALL = {row["name"] for row in ROWS}


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
async def engine(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[AsyncEngine]:
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('query') / 'query.db'}"
    else:
        url = POSTGRES_URL
    engine = create_async_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(_metadata.create_all)
            for row in ROWS:
                await connection.execute(insert(things).values(row))
        yield engine
    finally:
        async with engine.begin() as connection:
            await connection.run_sync(_metadata.drop_all)
        await engine.dispose()


async def _names(engine: AsyncEngine, condition: ColumnElement[bool]) -> set[str]:
    async with engine.connect() as connection:
        result = await connection.scalars(select(things.c.name).where(condition))
        return set(result.all())


# --- rows selected on both databases -----------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("eq(name,alpha)", {"alpha"}),
        (f"eq(id,{uuid.UUID(int=3)})", {"gamma_1"}),
        ("eq(size,10)", {"gamma_1"}),
        ("ne(size,10)", {"alpha", "Beta", "gamma%2", "delta", "zeta"}),
        ("lt(size,10)", {"alpha", "Beta"}),
        ("le(size,10)", {"alpha", "Beta", "gamma_1"}),
        ("gt(size,10)", {"gamma%2", "delta", "zeta"}),
        ("ge(size,20)", {"gamma%2", "delta", "zeta"}),
        ("eq(enabled,TRUE)", {"alpha", "gamma_1", "e[1]*"}),
        ("eq(enabled,0)", {"Beta", "gamma%2"}),
        ("lt(created_at,2024-01-01)", {"delta", "zeta"}),
        ("le(created_at,2024-01-01T00:00:00Z)", {"delta", "alpha", "zeta"}),
        ("gt(created_at,2025-06-01T11:00:00+02:00)", {"e[1]*", "gamma_1", "gamma%2"}),
        ("like(name,gamma%)", {"gamma_1", "gamma%2"}),
        ("like(name,%a)", {"alpha", "Beta", "delta", "zeta"}),
        ("like(name,gamma_1)", {"gamma_1"}),
        (r"like(name,gamma\_%)", {"gamma_1"}),
        (r"like(name,gamma\%%)", {"gamma%2"}),
        ("like(name,beta)", set()),
        ("like(name,e[1]*)", {"e[1]*"}),
        ("like(name,e_1_*)", {"e[1]*"}),
        ("ilike(name,BETA)", {"Beta"}),
        ("ilike(name,%A)", {"alpha", "Beta", "delta", "zeta"}),
        ("ilike(name,G%)", {"gamma_1", "gamma%2"}),
        ("contains(tags,ga)", {"alpha", "gamma_1"}),
        ("contains(tags,ga,arm)", {"gamma_1"}),
        ("contains(tags,ga,nightly)", set()),
        ("not_contains(tags,ga)", {"Beta", "gamma%2", "delta", "e[1]*", "zeta"}),
        ("not_contains(tags,ga,nightly)", {"gamma%2", "delta", "e[1]*", "zeta"}),
        ("null(note)", {"alpha", "gamma%2"}),
        ("null(size)", {"e[1]*"}),
        ("null(tags)", {"delta", "e[1]*"}),
        ("not(null(note))", {"Beta", "gamma_1", "delta", "e[1]*", "zeta"}),
        # SQL's three-valued logic: a NULL `enabled` is neither true nor not true.
        ("not(eq(enabled,true))", {"Beta", "gamma%2"}),
        ("and(eq(enabled,true),or(lt(size,5),contains(tags,arm)))", {"alpha", "gamma_1"}),
        (
            "or(eq(name,alpha),and(ge(size,20),not(contains(tags,ga))))",
            {"alpha", "gamma%2", "delta", "zeta"},
        ),
        ("eq(note,'n, 1)')", {"Beta"}),
        ('eq(note,"key:value")', {"gamma_1"}),
        ("eq(note, key:value )", {"gamma_1"}),
        ("eq(note,É)", {"e[1]*"}),
        ("  and ( eq ( name , alpha ) ,\n\teq( size , 1 ) )  ", {"alpha"}),
        ("", ALL),
    ],
)
async def test_query_selects_rows(engine: AsyncEngine, query: str, expected: set[str]) -> None:
    assert await _names(engine, compile_query(query, FIELDS)) == expected


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        ("name:alpha", {"alpha"}),
        (f"id:{uuid.UUID(int=1)}", {"alpha"}),
        ("enabled:true,size:10", {"gamma_1"}),
        (" name:alpha , size:1 ", {"alpha"}),
        ("name:gamma*", {"gamma_1", "gamma%2"}),
        ("name:*a", {"alpha", "Beta", "delta", "zeta"}),
        ("name:*mm*", {"gamma_1", "gamma%2"}),
        ("name:g*a*1", {"gamma_1"}),
        ("name:gamma%*", {"gamma%2"}),
        ("name:gamma_*", {"gamma_1"}),
        ("name:e[1]*", {"e[1]*"}),
        ("name:G*", set()),
        ("note:", {"alpha", "gamma%2"}),
        ("tags:", {"delta", "e[1]*"}),
        ("tags:ga", {"alpha", "gamma_1"}),
        ("note:key:value", {"gamma_1"}),
        ("created_at:2026-01-01T00:00:00", {"gamma_1"}),
        ("created_at:2026-01-01T01:00:00+01:00", {"gamma_1"}),
        ("", ALL),
    ],
)
async def test_where_selects_rows(engine: AsyncEngine, where: str, expected: set[str]) -> None:
    assert await _names(engine, compile_where(where, FIELDS)) == expected


async def test_cached_statements_take_new_values(engine: AsyncEngine) -> None:
    # Same statement shape, different values: the statement cache must not replay old values.
    for query, expected in [
        ("contains(tags,ga)", {"alpha", "gamma_1"}),
        ("contains(tags,arm)", {"gamma_1"}),
        ("not_contains(tags,nightly)", ALL - {"Beta"}),
        ("not_contains(tags,x86)", ALL - {"alpha"}),
        ("like(name,a%)", {"alpha"}),
        ("like(name,d%)", {"delta"}),
    ]:
        assert await _names(engine, compile_query(query, FIELDS)) == expected


async def test_filters_combine(engine: AsyncEngine) -> None:
    condition = and_(compile_where("enabled:1", FIELDS), compile_query("gt(size,1)", FIELDS))
    assert await _names(engine, condition) == {"gamma_1"}


# --- parsing: the expression built ----------------------------------------------------------


def _same(left: ColumnElement[bool], right: ColumnElement[bool]) -> bool:
    return bool(left.compare(right))


c = things.c


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("eq(name,a)", c.name == "a"),
        ("ne(size,3)", c.size != 3),
        ("lt(size,3)", c.size < 3),
        ("le(size,-3)", c.size <= -3),
        ("ne(enabled,false)", c.enabled != False),  # noqa: E712 - builds SQL
        ("ge(created_at,2024-05-01T10:00:00+02:00)", c.created_at >= _at("2024-05-01T08:00:00")),
        ("null(note)", c.note.is_(None)),
        ("and(eq(size,1),eq(size,2))", and_(c.size == 1, c.size == 2)),
        ("or(eq(size,1),eq(size,2))", or_(c.size == 1, c.size == 2)),
        ("not(eq(size,1))", not_(c.size == 1)),
        (
            "or(and(eq(size,1),not(null(note))),eq(name,b))",
            or_(and_(c.size == 1, not_(c.note.is_(None))), c.name == "b"),
        ),
        (" eq ( name ,  two words  ) ", c.name == "two words"),
        ("eq(name,' padded, (quoted) ')", c.name == " padded, (quoted) "),
        ('eq(name,"it\'s")', c.name == "it's"),
        ("eq(name,it's)", c.name == "it's"),
        ("eq(name,'')", c.name == ""),
        ("eq(name,a:b=c)", c.name == "a:b=c"),
    ],
)
def test_query_builds_expression(query: str, expected: ColumnElement[bool]) -> None:
    assert _same(compile_query(query, FIELDS), expected)


def test_comparison_detects_a_different_value() -> None:
    # Guards the tests above: compare() must look at bound values, not only at the shape.
    assert not _same(compile_query("eq(name,a)", FIELDS), c.name == "b")


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        ("name:a", c.name == "a"),
        ("size:3,note:", and_(c.size == 3, c.note.is_(None))),
        ("enabled:False", c.enabled == False),  # noqa: E712 - builds SQL, not a Python test
        ("note:a:b", c.note == "a:b"),
        ("name:a,,", c.name == "a"),
    ],
)
def test_where_builds_expression(where: str, expected: ColumnElement[bool]) -> None:
    assert _same(compile_where(where, FIELDS), expected)


@pytest.mark.parametrize("text", ["", "   "])
def test_empty_filters_match_everything(text: str) -> None:
    assert _same(compile_query(text, FIELDS), true())
    assert _same(compile_where(text, FIELDS), and_(true()))


# --- SQL per dialect ---------------------------------------------------------------------------


def _sql(condition: ColumnElement[bool], dialect: Dialect) -> tuple[str, dict[str, Any]]:
    compiled = condition.compile(dialect=dialect)
    return str(compiled), dict(compiled.params)


def test_contains_uses_jsonb_containment_on_postgresql() -> None:
    sql, params = _sql(compile_query("contains(tags,ga,arm)", FIELDS), POSTGRESQL)
    assert "@> CAST(" in sql
    assert "AS JSONB)" in sql
    assert list(params.values()) == ['["ga", "arm"]']


def test_contains_uses_json_each_on_sqlite() -> None:
    sql, params = _sql(compile_query("contains(tags,ga,arm)", FIELDS), SQLITE)
    assert sql.count("json_each(") == 2
    assert {"ga", "arm"} <= set(params.values())


def test_like_is_a_glob_on_sqlite() -> None:
    sql, params = _sql(compile_query("like(name,a%_*)", FIELDS), SQLITE)
    # Already a condition: no `= 1` appended, and NOT is a real NOT rather than `= 0`.
    assert sql == f"({things.name}.name GLOB ?)"
    assert _sql(compile_query("not(like(name,a))", FIELDS), SQLITE)[0] == f"NOT {sql}"
    assert list(params.values()) == ["a*?[*]"]
    sql, params = _sql(compile_query("like(name,a%_*)", FIELDS), POSTGRESQL)
    assert "LIKE" in sql
    assert list(params.values()) == ["a%_*"]


@pytest.mark.parametrize("shape", ["contains(tags,{})", "not_contains(tags,{})", "like(name,{})"])
def test_dialect_specific_conditions_are_cacheable(shape: str) -> None:
    first = compile_query(shape.format("a"), FIELDS)._generate_cache_key()
    second = compile_query(shape.format("b"), FIELDS)._generate_cache_key()
    assert first is not None
    assert first == second  # the same statement, values are extracted parameters


@pytest.mark.parametrize("dialect", [POSTGRESQL, SQLITE])
@pytest.mark.parametrize(
    "query",
    [
        'eq(name,"x\'; DROP TABLE users; --")',
        'like(name,"x\'; DROP TABLE users; --")',
        'contains(tags,"x\'; DROP TABLE users; --")',
    ],
)
def test_values_are_bound_not_inlined(query: str, dialect: Dialect) -> None:
    sql, params = _sql(compile_query(query, FIELDS), dialect)
    assert "DROP" not in sql
    assert any("DROP TABLE" in str(value) for value in params.values())


# --- value coercion by column type ------------------------------------------------------------


class _Tags(TypeDecorator[list[str]]):
    impl = JSON
    cache_ok = True


_kinds = Table(
    "kinds",
    MetaData(),
    Column("stamp", UTCDateTime()),
    Column("naive", DateTime()),
    Column("ratio", Float),
    Column("colour", Enum("red", "green", name="colour")),
    Column("labels", _Tags()),
)
KINDS: dict[str, ColumnElement[Any]] = {column.name: column for column in _kinds.c}


def test_decorated_datetime_coerces_like_its_impl() -> None:
    condition = compile_query("eq(stamp,2024-01-01T02:00:00+02:00)", KINDS)
    assert _same(condition, _kinds.c.stamp == datetime(2024, 1, 1, tzinfo=UTC))


def test_datetime_without_zone_gets_naive_utc() -> None:
    condition = compile_query("eq(naive,2024-01-01T02:00:00+02:00)", KINDS)
    assert _same(condition, _kinds.c.naive == datetime(2024, 1, 1))


def test_float_and_enum_values() -> None:
    assert _same(compile_query("gt(ratio,0.5)", KINDS), _kinds.c.ratio > 0.5)
    assert _same(compile_query("eq(colour,red)", KINDS), _kinds.c.colour == "red")


def test_enum_is_matched_as_text() -> None:
    sql, params = _sql(compile_query("like(colour,r%)", KINDS), POSTGRESQL)
    assert sql == "(CAST(kinds.colour AS VARCHAR) LIKE %(param_1)s::VARCHAR ESCAPE '\\')"
    assert list(params.values()) == ["r%"]


def test_decorated_json_is_a_list_field() -> None:
    sql, _ = _sql(compile_query("contains(labels,a)", KINDS), SQLITE)
    assert "json_each(" in sql
    with pytest.raises(QueryError, match="cannot be used on the list field 'labels'"):
        compile_query("eq(labels,a)", KINDS)


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("gt(ratio,fast)", "'fast' is not a valid number for field 'ratio'"),
        ("gt(ratio,inf)", "'inf' is not a valid number for field 'ratio'"),
        (
            "eq(colour,blue)",
            "'blue' is not a valid value for field 'colour'; valid values: green, red",
        ),
    ],
)
def test_coercion_errors(query: str, message: str) -> None:
    with pytest.raises(QueryError) as caught:
        compile_query(query, KINDS)
    assert str(caught.value) == message


# --- errors ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("eq(colour,red)", f"unknown field 'colour'; valid fields: {VALID_FIELDS}"),
        ("null(Name)", f"unknown field 'Name'; valid fields: {VALID_FIELDS}"),
        (
            "equals(name,a)",
            "unknown operator 'equals' at character 1; valid operators: and, contains, eq, ge, "
            "gt, ilike, le, like, lt, ne, not, not_contains, null, or",
        ),
        ("eq(name)", "eq() takes 2 arguments (field, value), got 1"),
        ("like(name,a,b)", "like() takes 2 arguments (field, value), got 3"),
        ("null(name,a)", "null() takes 1 argument (field), got 2"),
        ("null()", "null() takes 1 argument (field), got 0"),
        ("contains(tags)", "contains() takes at least 2 arguments (field, value, ...), got 1"),
        ("and()", "and() needs at least one expression"),
        ("not(eq(size,1),eq(size,2))", "not() takes exactly 1 expression, got 2"),
        (
            "and(name)",
            "and() takes expressions such as eq(field,value), not the value 'name' at character 5",
        ),
        (
            "eq(name,a(b))",
            "eq() takes a field and plain values, not the expression a() at character 9; "
            "quote values that contain ',', '(' or ')'",
        ),
        (
            "eq(name,a",
            "unbalanced parentheses: missing ')' to close eq( opened at character 1",
        ),
        (
            "and(eq(size,1),eq(size,2)",
            "unbalanced parentheses: missing ')' to close and( opened at character 1",
        ),
        ("eq(name,a))", "unbalanced parentheses: unexpected ')' at character 11"),
        (
            "eq(name,a) x",
            "unexpected 'x' at character 12 after the end of the expression; "
            "combine conditions with and(...) or or(...)",
        ),
        (
            "eq(name,a),eq(name,b)",
            "unexpected ',' at character 11 after the end of the expression; "
            "combine conditions with and(...) or or(...)",
        ),
        ("(eq(name,a))", "expected an operator such as eq( at character 1, got '('"),
        ("eq name", "expected '(' after 'eq name' at character 8, got the end of the query"),
        ("eq(name,)", "missing value at character 9 in eq(): got ')'; write '' for an empty value"),
        ("eq(name,'abc)", "unterminated ' quote at character 9"),
        ('eq(name,"abc)', 'unterminated " quote at character 9'),
        (
            "eq(name,'a'b)",
            "expected ',' or ')' at character 12 in eq(), got 'b'; "
            "quote values that contain ',', '(' or ')'",
        ),
        ("eq(size,big)", "'big' is not a valid integer for field 'size'"),
        (
            "eq(enabled,maybe)",
            "'maybe' is not a valid boolean (true, false, 1 or 0) for field 'enabled'",
        ),
        ("gt(enabled,false)", "gt() cannot order the boolean field 'enabled'; use eq() or ne()"),
        ("eq(id,nope)", "'nope' is not a valid UUID for field 'id'"),
        ("gt(created_at,soon)", "'soon' is not a valid ISO-8601 timestamp for field 'created_at'"),
        (
            "eq(tags,ga)",
            "eq() cannot be used on the list field 'tags'; "
            "use contains(), not_contains() or null()",
        ),
        ("contains(name,a)", "contains() needs a list field, and 'name' is not one"),
        ("not_contains(size,1)", "not_contains() needs a list field, and 'size' is not one"),
        ("like(size,1%)", "like() needs a text field, and 'size' is not one"),
        ("ilike(tags,a)", "ilike() needs a text field, and 'tags' is not one"),
        (
            "like(name,a\\)",
            "pattern 'a\\\\' ends with the escape character '\\'; "
            "write '\\\\' for a literal backslash",
        ),
        ("and(" * 32 + "eq(size,1)" + ")" * 32, "query nests deeper than 32 levels"),
        ("eq(name," + "x" * 5000 + ")", "filter is 5009 characters long; the limit is 4096"),
    ],
)
def test_query_errors(query: str, message: str) -> None:
    with pytest.raises(QueryError) as caught:
        compile_query(query, FIELDS)
    assert str(caught.value) == message


def test_nesting_up_to_the_limit_is_accepted() -> None:
    query = "not(" * 31 + "eq(size,1)" + ")" * 31
    compile_query(query, FIELDS)


@pytest.mark.parametrize(
    ("where", "message"),
    [
        ("colour:red", f"unknown field 'colour'; valid fields: {VALID_FIELDS}"),
        ("name", "where condition 'name' is not of the form field:value"),
        ("name:a,size", "where condition 'size' is not of the form field:value"),
        ("size:x", "'x' is not a valid integer for field 'size'"),
        ("size:1*", "a '*' wildcard needs a text field, and 'size' is not one"),
        ("tags:g*", "a '*' wildcard needs a text field, and 'tags' is not one"),
        ("name:" + "x" * 5000, "filter is 5005 characters long; the limit is 4096"),
    ],
)
def test_where_errors(where: str, message: str) -> None:
    with pytest.raises(QueryError) as caught:
        compile_where(where, FIELDS)
    assert str(caught.value) == message


def test_query_error_is_a_value_error() -> None:
    assert issubclass(QueryError, ValueError)
