"""Set-based reads and writes shared by every API resource.

A `Resource` describes a table the way the API exposes it (public fields, hidden columns, team
ownership, relations that can be embedded). The functions below run the same few statements
for all of them: one query for a page, one for its count, one per embedded relation, and
conditional (etag-checked) updates that never read-modify-write.
"""

from __future__ import annotations

import dataclasses
import functools
import uuid
from collections.abc import Callable, Container, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Insert,
    Select,
    Table,
    and_,
    delete,
    false,
    func,
    insert,
    literal_column,
    or_,
    select,
    update,
)
from sqlalchemy.engine import Result
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import operators

from aerodrome.db.base import new_etag
from aerodrome.db.membership import MemberOf
from aerodrome.db.row_counts import ROW_COUNTS
from aerodrome.db.types import utcnow
from aerodrome.errors import Conflict, NotFound, PreconditionFailed

ARCHIVED = "archived"
TOTAL = "_total"
Row = dict[str, Any]


@dataclass(frozen=True)
class Relation:
    """A related resource that `embed=<name>` attaches to each row, fetched in one query."""

    name: str
    local_key: str
    target: Resource
    remote_key: str = "id"
    many: bool = False


@dataclass(frozen=True, eq=False)  # hashed by identity: each resource is defined once
class Resource:
    singular: str
    plural: str
    table: Table
    hidden: frozenset[str] = frozenset()
    # Column naming the owning team; None for global resources (visible to every caller).
    team_key: str | None = None
    # Whether a row without a team is public (components) rather than unowned.
    public_without_team: bool = False
    default_sort: tuple[str, ...] = ("-created_at",)
    # Columns that address one row besides the id (e.g. a component type by name).
    alternate_keys: tuple[str, ...] = ()
    relations: Mapping[str, Relation] = field(default_factory=dict)
    # Whether triggers keep this table's counts in `row_counts` (see db/row_counts.py).
    counted: bool = False

    @property
    def fields(self) -> dict[str, ColumnElement[Any]]:
        """Public field name → column; what `sort`, `where` and `query` may use."""
        return {c.name: c for c in self.table.c if c.name not in self.hidden}

    def column(self, name: str) -> ColumnElement[Any]:
        return self.table.c[name]

    def public_row(self, row: Mapping[Any, Any]) -> Row:
        return {k: v for k, v in row.items() if k not in self.hidden}

    def public_rows(self, result: Result[Any]) -> list[Row]:
        """Every row of `result`, without the hidden columns."""
        return as_dicts(result.keys(), result.all(), self.hidden)


def as_rows(result: Result[Any]) -> list[Row]:
    """Every row of `result` as a dict."""
    return as_dicts(result.keys(), result.all())


def as_dicts(
    keys: Iterable[str], found: Iterable[Sequence[Any]], left_out: Container[str] = ()
) -> list[Row]:
    """Rows as dicts without the `left_out` columns, read as tuples at positions picked once:
    a mapping view per row cost several times more (the rest of an embed, on a job list)."""
    shown = [(i, key) for i, key in enumerate(keys) if key not in left_out]
    return [{key: row[i] for i, key in shown} for row in found]


@dataclass(frozen=True)
class ListQuery:
    """A validated list request, already compiled to SQL expressions."""

    limit: int = 20
    offset: int = 0
    filters: tuple[ColumnElement[bool], ...] = ()
    order_by: tuple[ColumnElement[Any], ...] = ()
    embeds: tuple[str, ...] = ()


@dataclass(frozen=True)
class Page:
    rows: list[Row]
    count: int


ScopeFor = Callable[[Resource], ColumnElement[bool]]


@functools.lru_cache(maxsize=256)  # one immutable clause per resource, not one per request
def not_archived(resource: Resource) -> ColumnElement[bool]:
    # A literal, not a bound parameter, so that the planners can use the partial indexes
    # that leave archived rows out (a parameter does not prove the index's predicate).
    return resource.column("state") != literal_column(f"'{ARCHIVED}'")


def page_statement(
    resource: Resource, query: ListQuery, scope_for: ScopeFor, *, with_total: bool = True
) -> Select[Any]:
    """The one statement of a list page: its rows and, in the last column, the total count.

    The count is an uncorrelated scalar subquery, which both databases evaluate once (an
    index-only scan on the partial list indexes).
    """
    where = and_(not_archived(resource), scope_for(resource), *query.filters)
    order = query.order_by or (resource.column("created_at").desc(),)
    total = select(func.count()).select_from(resource.table).where(where).scalar_subquery()
    columns = (resource.table, total.label(TOTAL)) if with_total else (resource.table,)
    return (
        select(*columns)
        .where(where)
        .order_by(*order, _tiebreaker(resource, order[-1]))
        .limit(query.limit)
        .offset(query.offset)
    )


class RememberedStatements:
    """Statements built once per key and reused (SQL expressions are immutable), the oldest
    forgotten beyond `kept`. Agents and dashboards repeat the same requests, and building a
    statement, then its cache key, cost more than a list's SQL (a sixth of a components list)."""

    def __init__(self, kept: int = 1024) -> None:
        self._kept = kept
        self._statements: dict[Hashable, Select[Any]] = {}

    def get(self, key: Hashable | None, build: Callable[[], Select[Any]]) -> Select[Any]:
        """The statement remembered for `key`, built now if there is none (or no key)."""
        if key is None:
            return build()
        statement = self._statements.get(key)
        if statement is None:
            if len(self._statements) >= self._kept:
                del self._statements[next(iter(self._statements))]
            statement = self._statements[key] = build()
        return statement


_PAGES = RememberedStatements()
_COUNTS = RememberedStatements()
_EMBEDS = RememberedStatements()


def _page_statement(
    resource: Resource, query: ListQuery, scope_for: ScopeFor, with_total: bool, scope_key: Any
) -> Select[Any]:
    def build() -> Select[Any]:
        return page_statement(resource, query, scope_for, with_total=with_total)

    key = None if scope_key is None else (resource, query, with_total, scope_key)
    return _PAGES.get(key, build)


async def list_rows(
    session: AsyncSession,
    resource: Resource,
    query: ListQuery,
    scope_for: ScopeFor,
    *,
    scope_key: Hashable | None = None,
) -> Page:
    """One page of visible, non-archived rows and the total count before pagination.

    `scope_key` names what `scope_for` depends on (equal keys, equal scopes): with one, the
    page and embed statements are built once and reused."""
    kept_count = resource.counted and not query.filters
    statement = _page_statement(resource, query, scope_for, not kept_count, scope_key)
    connection = await session.connection()  # Core, not the ORM: this is the hot path
    result = await connection.execute(statement)
    keys = list(result.keys())
    found = result.all()
    rows = as_dicts(keys, found, resource.hidden | {TOTAL})
    if kept_count:
        count = await _kept_count(session, resource, scope_for, scope_key)
    elif found:
        count = int(found[0][keys.index(TOTAL)])
    else:  # past the last page: the count has to be asked for on its own
        total = statement.selected_columns[TOTAL]
        count = int((await connection.execute(select(total))).scalar_one())
    await embed_relations(session, resource, rows, query.embeds, scope_for, scope_key=scope_key)
    return Page(rows=rows, count=count)


async def _kept_count(
    session: AsyncSession, resource: Resource, scope_for: ScopeFor, scope_key: Hashable | None
) -> int:
    """The listed rows `scope_for` lets through, summed from the deltas the triggers keep."""

    def build() -> Select[Any]:
        # The caller's team scope, applied to the deltas' team column instead of the table's.
        scope = scope_for(dataclasses.replace(resource, table=ROW_COUNTS))
        return select(func.coalesce(func.sum(ROW_COUNTS.c.delta), 0)).where(
            ROW_COUNTS.c.table_name == resource.table.name, scope
        )

    statement = _COUNTS.get(None if scope_key is None else (resource, scope_key), build)
    return int((await session.execute(statement)).scalar_one())


def _tiebreaker(resource: Resource, last: ColumnElement[Any]) -> ColumnElement[Any]:
    """Order ties by id, in the direction of the last sort key, so one index serves both."""
    descending = getattr(last, "modifier", None) is operators.desc_op
    return resource.column("id").desc() if descending else resource.column("id").asc()


def key_clause(resource: Resource, key: str) -> ColumnElement[bool]:
    """Match a row by id, or by an alternate key when `key` is not a UUID."""
    try:
        return resource.column("id") == uuid.UUID(key)
    except ValueError:
        clauses = [resource.column(name) == key for name in resource.alternate_keys]
        return or_(false(), *clauses)


async def get_row(
    session: AsyncSession,
    resource: Resource,
    key: str | uuid.UUID,
    scope_for: ScopeFor,
    *,
    embeds: Sequence[str] = (),
) -> Row:
    """One visible, non-archived row by id (or alternate key), with its embeds."""
    where = (key_clause(resource, str(key)), scope_for(resource), not_archived(resource))
    result = await session.execute(select(resource.table).where(*where))
    found = result.mappings().first()
    if found is None:
        raise NotFound(f"{resource.singular} {key} not found", payload={"id": str(key)})
    rows = [resource.public_row(found)]
    await embed_relations(session, resource, rows, embeds, scope_for)
    return rows[0]


async def insert_row(session: AsyncSession, resource: Resource, values: Mapping[str, Any]) -> Row:
    """Insert and return the stored row; a uniqueness clash is a 409 naming the resource."""
    now = utcnow()
    stored = {"id": uuid.uuid4(), "created_at": now, "updated_at": now, "etag": new_etag()}
    stored.update(values)
    try:
        result = await session.execute(_insert_returning(resource.table), stored)
    except IntegrityError as exc:
        raise _conflict(resource, exc) from exc
    return resource.public_row(result.mappings().one())


@functools.lru_cache(maxsize=128)
def _insert_returning(table: Table) -> Insert:
    """INSERT of the columns the parameters name, returning the row: built once per table
    (building the VALUES clause each time cost a tenth of a scheduled job's CPU)."""
    return insert(table).returning(*table.c)


async def update_row(
    session: AsyncSession,
    resource: Resource,
    row_id: uuid.UUID,
    *,
    if_match: str,
    values: Mapping[str, Any],
) -> Row:
    """Apply `values` only if the stored etag is still `if_match` (one conditional UPDATE).

    The database decides the race: of concurrent writers holding the same etag, exactly one
    UPDATE matches; the others find a new etag and get 412.
    """
    stmt = (
        update(resource.table)
        .where(resource.column("id") == row_id, resource.column("etag") == if_match)
        .values(**values, etag=new_etag(), updated_at=utcnow())
        .returning(*resource.table.c)
    )
    try:
        updated = (await session.execute(stmt)).mappings().first()
    except IntegrityError as exc:
        raise _conflict(resource, exc) from exc
    if updated is None:
        raise PreconditionFailed(
            f"{resource.singular} {row_id} has changed: the etag does not match",
            payload={"id": str(row_id)},
        )
    return resource.public_row(updated)


async def archive_row(
    session: AsyncSession, resource: Resource, row_id: uuid.UUID, *, if_match: str
) -> None:
    """Soft delete: the row stays, with state `archived`, until purged."""
    await update_row(session, resource, row_id, if_match=if_match, values={"state": ARCHIVED})


async def add_link(
    session: AsyncSession, table: Table, values: Mapping[str, Any], *, duplicate: str
) -> None:
    """Insert a row of a link table (product ↔ team, remoteci ↔ user); an existing link is a
    Conflict saying `duplicate`, and the caller's transaction goes on."""
    try:
        async with session.begin_nested():
            await session.execute(insert(table).values(**values))
    except IntegrityError:
        raise Conflict(duplicate) from None


async def remove_link(
    session: AsyncSession, table: Table, values: Mapping[str, Any], *, missing: str
) -> None:
    """Delete a row of a link table; NotFound saying `missing` when there is none."""
    stmt = delete(table).where(*(table.c[name] == value for name, value in values.items()))
    if not (await session.execute(stmt)).rowcount:  # type: ignore[attr-defined]
        raise NotFound(missing)


async def list_archived(session: AsyncSession, resource: Resource, scope: ScopeFor) -> list[Row]:
    stmt = (
        select(resource.table)
        .where(resource.column("state") == ARCHIVED, scope(resource))
        .order_by(resource.column("created_at"))
    )
    return resource.public_rows(await session.execute(stmt))


async def purge_archived(session: AsyncSession, resource: Resource, scope: ScopeFor) -> int:
    """Remove archived rows for good; rows still referenced elsewhere make it a 409."""
    stmt = delete(resource.table).where(resource.column("state") == ARCHIVED, scope(resource))
    try:
        result = await session.execute(stmt)
    except IntegrityError as exc:
        raise Conflict(
            f"some archived {resource.plural} are still referenced and cannot be purged"
        ) from exc
    return int(result.rowcount)  # type: ignore[attr-defined]


async def embed_relations(
    session: AsyncSession,
    resource: Resource,
    rows: list[Row],
    names: Iterable[str],
    scope_for: ScopeFor,
    *,
    scope_key: Hashable | None = None,
) -> None:
    """Attach each requested relation to every row with one query per relation (`scope_key`
    as in `list_rows`)."""
    for name in names:
        relation = resource.relations[name]
        await _embed_one(session, relation, rows, scope_for, scope_key)


def embed_statement(key: Hashable | None, build: Callable[[], Select[Any]]) -> Select[Any]:
    """The statement of an embed, whose related keys are the list parameter `keys`:
    built once per `key` (None: every time)."""
    return _EMBEDS.get(key, build)


async def _embed_one(
    session: AsyncSession,
    relation: Relation,
    rows: list[Row],
    scope_for: ScopeFor,
    scope_key: Hashable | None,
) -> None:
    keys = {row[relation.local_key] for row in rows if row.get(relation.local_key) is not None}
    target = relation.target

    def build() -> Select[Any]:
        return select(target.table).where(
            MemberOf(target.column(relation.remote_key), "keys"),
            not_archived(target),
            scope_for(target),
        )

    related: list[Row] = []
    if keys:
        stmt = embed_statement(None if scope_key is None else (relation, scope_key), build)
        related = target.public_rows(await session.execute(stmt, {"keys": list(keys)}))
    by_key: dict[Any, list[Row]] = {}
    for item in related:
        by_key.setdefault(item[relation.remote_key], []).append(item)
    for row in rows:
        matches = by_key.get(row.get(relation.local_key), [])
        row[relation.name] = matches if relation.many else (matches[0] if matches else None)


def _conflict(resource: Resource, exc: IntegrityError) -> Conflict:
    detail = str(exc.orig).splitlines()[0] if exc.orig else "constraint violated"
    return Conflict(
        f"{resource.singular} conflicts with an existing one", payload={"detail": detail}
    )
