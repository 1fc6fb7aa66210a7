"""Runs: named groups of jobs, their filters, and the run side of paddles-style job writes.

Every read is one indexed statement (a page of runs, one run, a run's jobs); no read counts
jobs, because the run's counters are kept by `aerodrome.work.rollup` in each job write.
Runs without a team are public to every reader; a team's runs only to its members.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    String,
    Uuid,
    and_,
    bindparam,
    delete,
    exists,
    false,
    literal_column,
    or_,
    select,
    true,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from aerodrome.db.base import new_etag
from aerodrome.db.resources import ARCHIVED, Row, as_rows
from aerodrome.db.types import utcnow
from aerodrome.errors import Conflict, Forbidden, InvalidInput, NotFound
from aerodrome.identity.principal import Identity
from aerodrome.work.models import Job, Run

RUNS = Run.__table__
JOBS = Job.__table__
# The columns a run filter tree (`/runs/branch/X/suite/Y/…`) may name, by path keyword.
RUN_FILTERS: Mapping[str, str] = {
    "branch": "branch",
    "suite": "suite",
    "machine_type": "machine_type",
    "status": "status",
    "user": "user",
    "sha1": "sha1",
}
# teuthology's run names: user-YYYY-MM-DD_HH:MM:SS-suite-branch-kernel-flavor-machine_type.
_RUN_NAME = re.compile(
    r"^(?P<user>.+?)-(?P<scheduled>\d{4}-\d{2}-\d{2}_\d{2}:\d{2}:\d{2})-(?P<suite>.+)"
    r"-(?P<branch>[^-]+)-(?P<kernel>[^-]+)-(?P<flavor>[^-]+)-(?P<machine_type>[^-]+)$"
)


class PaddlesTime(FunctionElement[str]):
    """A timestamp as paddles shows it (`YYYY-MM-DD HH:MM:SS`, UTC), formatted by the database:
    formatting them in Python was a third of the CPU of a page of runs or of a large run."""

    type = String()
    inherit_cache = True


@compiles(PaddlesTime)
def _paddles_time(element: PaddlesTime, compiler: SQLCompiler, **kw: Any) -> str:
    value = compiler.process(element.clauses, **kw)
    return f"to_char({value} AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS')"


@compiles(PaddlesTime, "sqlite")
def _paddles_time_sqlite(element: PaddlesTime, compiler: SQLCompiler, **kw: Any) -> str:
    # SQLite keeps UTC timestamps as text ("YYYY-MM-DD HH:MM:SS.ffffff").
    return f"strftime('%Y-%m-%d %H:%M:%S', {compiler.process(element.clauses, **kw)})"


def _shown(table: Any, names: Sequence[str]) -> tuple[ColumnElement[Any], ...]:
    """Columns by name; timestamps come formatted the way paddles shows them."""
    return tuple(
        PaddlesTime(table.c[name]).label(name) if name in _TIMES else table.c[name]
        for name in names
    )


_TIMES = frozenset({"created_at", "updated_at", "posted", "started", "scheduled"})
# What a run listing shows: every column but the internal ones (and the free-form `data`).
RUN_LISTED = _shown(
    RUNS,
    [column.name for column in RUNS.c if column.name not in ("data", "etag", "state", "team_id")],
)
# What a job listing of a run shows: the job's own fields, not the links of other domains.
JOB_SHOWN = _shown(
    JOBS,
    (
        "run_job_id",
        "status",
        "data",
        "branch",
        "suite",
        "sha1",
        "machine_type",
        "os_type",
        "os_version",
        "description",
        "owner",
        "duration",
        "priority",
        "posted",
        "started",
        "updated_at",
    ),
)


@dataclass(frozen=True)
class RunFilter:
    """Which runs a list shows; every field narrows it (AND)."""

    equals: Mapping[str, str | list[str]] | None = None  # a list: any of these values
    scheduled_from: datetime | None = None
    scheduled_before: datetime | None = None
    updated_since: datetime | None = None
    with_queued_jobs: bool = False


def visible_runs(identity: Identity) -> ColumnElement[bool]:
    """Runs `identity` may read: team-less runs, and those of its own teams."""
    column = RUNS.c.team_id
    if identity.sees_everything:
        return true()
    mine = column.in_(identity.team_ids) if identity.team_ids else false()
    return or_(column.is_(None), mine)


def _visible_to_teams(sees_everything: bool) -> ColumnElement[bool]:
    """`visible_runs` for statements built once: the teams are the parameter `team_ids`."""
    if sees_everything:
        return true()
    teams = bindparam("team_ids", expanding=True, type_=Uuid())
    return or_(RUNS.c.team_id.is_(None), RUNS.c.team_id.in_(teams))


def _reader(identity: Identity, **parameters: Any) -> dict[str, Any]:
    """The parameters of a statement built with `_visible_to_teams`."""
    return {"team_ids": list(identity.team_ids), **parameters}


def listed_runs() -> ColumnElement[bool]:
    # A literal so that the planners can use the partial indexes that leave archived rows out.
    return RUNS.c.state != literal_column(f"'{ARCHIVED}'")


def _run_filters(filters: RunFilter) -> list[ColumnElement[bool]]:
    clauses: list[ColumnElement[bool]] = []
    for key, value in (filters.equals or {}).items():
        column = RUNS.c[RUN_FILTERS[key]]
        clauses.append(column.in_(value) if isinstance(value, list) else column == value)
    if filters.scheduled_from is not None:
        clauses.append(RUNS.c.scheduled >= filters.scheduled_from)
    if filters.scheduled_before is not None:
        clauses.append(RUNS.c.scheduled < filters.scheduled_before)
    if filters.updated_since is not None:
        clauses.append(RUNS.c.updated_at > filters.updated_since)
    if filters.with_queued_jobs:
        clauses.append(RUNS.c.queued > literal_column("0"))
    return clauses


def runs_statement(
    identity: Identity, filters: RunFilter, *, limit: int, offset: int
) -> Select[Any]:
    """A page of runs, latest first (most urgent first for runs with queued jobs)."""
    order: tuple[ColumnElement[Any], ...] = (RUNS.c.created_at.desc(), RUNS.c.id.desc())
    if filters.with_queued_jobs:
        order = (RUNS.c.priority.asc(), RUNS.c.created_at.asc(), RUNS.c.id.asc())
    return (
        select(*RUN_LISTED)
        .where(listed_runs(), visible_runs(identity), *_run_filters(filters))
        .order_by(*order)
        .limit(limit)
        .offset(offset)
    )


async def list_runs(
    session: AsyncSession, identity: Identity, filters: RunFilter, *, limit: int, offset: int
) -> list[Row]:
    """A page of runs, latest first (most urgent first for runs with queued jobs)."""
    statement = runs_statement(identity, filters, limit=limit, offset=offset)
    return as_rows(await session.execute(statement))


async def run_values(
    session: AsyncSession, identity: Identity, field: str, filters: RunFilter
) -> list[str]:
    """The distinct values of `field` among the runs `filters` selects, sorted."""
    column = RUNS.c[RUN_FILTERS[field]]
    statement = (
        select(column)
        .where(listed_runs(), visible_runs(identity), column.is_not(None), *_run_filters(filters))
        .group_by(column)
        .order_by(column)
    )
    return [str(value) for value in (await session.execute(statement)).scalars()]


@lru_cache(maxsize=2)
def _run_by_name(sees_everything: bool) -> Select[Any]:
    # Built once: building and keying a statement costs more than running this one.
    name = RUNS.c.name == bindparam("name", type_=RUNS.c.name.type)
    return select(*RUN_LISTED).where(name, listed_runs(), _visible_to_teams(sees_everything))


@lru_cache(maxsize=2)
def _run_named(sees_everything: bool) -> Select[Any]:
    name = RUNS.c.name == bindparam("name", type_=RUNS.c.name.type)
    condition = and_(name, listed_runs(), _visible_to_teams(sees_everything))
    return select(exists().where(condition))


async def get_run(session: AsyncSession, identity: Identity, name: str) -> Row:
    """One visible run by name, as a run listing shows it."""
    statement = _run_by_name(identity.sees_everything)
    found = as_rows(await session.execute(statement, _reader(identity, name=name)))
    if not found:
        raise NotFound(f"run {name} not found", payload={"name": name})
    return found[0]


async def run_exists(session: AsyncSession, identity: Identity, name: str) -> bool:
    """Whether a visible run of that name exists (teuthology's `HEAD /runs/NAME/`)."""
    statement = _run_named(identity.sees_everything)
    return bool((await session.execute(statement, _reader(identity, name=name))).scalar())


def parse_run_name(name: str) -> dict[str, Any]:
    """The fields teuthology encodes in a run's name, or only `scheduled` (now) if it does not
    follow teuthology's naming."""
    match = _RUN_NAME.match(name)
    if match is None:
        return {"scheduled": utcnow()}
    parts = match.groupdict()
    scheduled = datetime.strptime(parts["scheduled"], "%Y-%m-%d_%H:%M:%S").replace(tzinfo=UTC)
    fields = ("user", "suite", "branch", "flavor", "machine_type")
    return {"scheduled": scheduled, **{key: parts[key] for key in fields}}


def _run_values(name: str, team_id: uuid.UUID | None) -> dict[str, Any]:
    now = utcnow()
    values: dict[str, Any] = {
        "id": uuid.uuid4(),
        "name": name,
        "team_id": team_id,
        "created_at": now,
        "updated_at": now,
        "etag": new_etag(),
        "state": "active",
        "status": "empty",
        "data": {},
        **{counter: 0 for counter in RUN_COUNTER_COLUMNS},
    }
    values.update(parse_run_name(name))
    return values


RUN_COUNTER_COLUMNS = ("queued", "waiting", "running", "pass", "fail", "dead", "unknown", "total")


def insert_ignoring_conflict(session: AsyncSession, table: Any, values: Mapping[str, Any]) -> Any:
    """INSERT … ON CONFLICT DO NOTHING in the session's dialect."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return insert(table).values(dict(values)).on_conflict_do_nothing()


def check_run_name(name: str) -> None:
    if not name.strip() or len(name) > 512 or "/" in name or "\x00" in name:
        raise InvalidInput("a run name has 1 to 512 characters and no '/'")


async def create_run(session: AsyncSession, identity: Identity, name: str) -> Row:
    """A new empty run; its teuthology-encoded fields come from the name."""
    check_run_name(name)
    statement = insert_ignoring_conflict(session, RUNS, _run_values(name, None)).returning(RUNS)
    created = (await session.execute(statement)).mappings().first()
    if created is None:
        raise Conflict(f"run with name {name} already exists", payload={"name": name})
    return dict(created)


@dataclass(frozen=True)
class RunRef:
    id: uuid.UUID
    name: str
    team_id: uuid.UUID | None


async def run_for_write(
    session: AsyncSession, identity: Identity, name: str, *, create: bool
) -> RunRef:
    """The run a job write goes to, created (atomically, once) when `create` says so."""
    statement = select(RUNS.c.id, RUNS.c.team_id).where(RUNS.c.name == name, listed_runs())
    found = (await session.execute(statement)).first()
    if found is None and create:
        check_run_name(name)
        insert = insert_ignoring_conflict(session, RUNS, _run_values(name, None))
        await session.execute(insert)
        found = (await session.execute(statement)).first()
    if found is None:
        raise NotFound(f"run {name} not found", payload={"name": name})
    run = RunRef(id=found.id, name=name, team_id=found.team_id)
    check_run_write(identity, run.team_id)
    return run


def check_run_write(identity: Identity, team_id: uuid.UUID | None) -> None:
    """A team's runs are written by its members (and super admins); team-less runs by anyone
    the façade let in."""
    if team_id is None or identity.is_super_admin or team_id in identity.team_ids:
        return
    raise Forbidden("you may only change runs of your own teams")


async def delete_run(session: AsyncSession, identity: Identity, name: str) -> None:
    """Remove a run and its jobs for good (paddles' DELETE)."""
    run = await run_for_write(session, identity, name, create=False)
    await session.execute(delete(JOBS).where(JOBS.c.run_id == run.id))
    await session.execute(delete(RUNS).where(RUNS.c.id == run.id))


@lru_cache(maxsize=2)
def jobs_of_run(by_status: bool = False) -> Select[Any]:
    """The statement listing a run's jobs in posting order; parameters `run_id` and, if
    `by_status`, `statuses`."""
    statement = select(*JOB_SHOWN).where(JOBS.c.run_id == bindparam("run_id", type_=Uuid()))
    if by_status:
        statuses = bindparam("statuses", expanding=True, type_=JOBS.c.status.type)
        statement = statement.where(JOBS.c.status.in_(statuses))
    return statement.order_by(JOBS.c.created_at, JOBS.c.id)


async def list_run_jobs(
    session: AsyncSession, run_id: uuid.UUID, statuses: Sequence[str] | None = None
) -> list[Row]:
    """A run's jobs: one indexed query (`jobs (run_id, …)`)."""
    parameters: dict[str, Any] = {"run_id": run_id}
    if statuses is not None:
        parameters["statuses"] = list(statuses)
    statement = jobs_of_run(by_status=statuses is not None)
    return as_rows(await session.execute(statement, parameters))
