"""The jobs of runs as paddles and teuthology write and read them.

A job write is a few statements in the caller's unit of work. A new job is one INSERT … SELECT
that finds the run by name and adds the job (a duplicate is skipped); only when it adds
nothing does the write look further (a missing run is created, atomically, once). An update
locks the job, found through its run's name, then changes it. Then the nodes it ran on, and
the run's roll-up (one relative UPDATE). The statements are built once: building and keying a
statement cost more than running it. Reads are single indexed queries; nothing loads a run's
history.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Insert,
    Select,
    Update,
    bindparam,
    delete,
    false,
    func,
    insert,
    literal_column,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from aerodrome.db.base import new_etag
from aerodrome.db.resources import Row, as_rows
from aerodrome.db.types import utcnow
from aerodrome.errors import Conflict, InvalidInput, NotFound
from aerodrome.identity.principal import Identity
from aerodrome.pools.models import JobNode
from aerodrome.work import rollup
from aerodrome.work.models import Queue
from aerodrome.work.runs import (
    JOB_SHOWN,
    JOBS,
    RUNS,
    check_run_write,
    insert_ignoring_conflict,
    listed_runs,
    run_for_write,
    visible_runs,
)
from aerodrome.work.status import TO_PADDLES

JOB_NODES = JobNode.__table__
QUEUES = Queue.__table__
# A finished job keeps its result: marking it dead afterwards (teuthology-report --dead on a
# whole run) must not turn a pass or a fail into a dead.
FINISHED = frozenset({"success", "failure", "error"})
# Run columns that the run takes from its first job that has them.
RUN_FILLED = ("branch", "suite", "machine_type", "sha1", "priority")


@dataclass(frozen=True)
class JobWrite:
    """A job write, already translated into the core model by a façade."""

    job_id: str | None = None
    status: str | None = None  # canonical; None keeps the current one (or `unknown`)
    columns: Mapping[str, Any] = field(default_factory=dict)  # promoted job columns
    data: Mapping[str, Any] = field(default_factory=dict)  # every other key
    targets: Sequence[str] | None = None  # names of the nodes the job ran on
    queue: str | None = None


def visible_jobs(identity: Identity) -> ColumnElement[bool]:
    """Jobs `identity` may read: team-less ones and those of its own teams."""
    if identity.sees_everything:
        return true()
    column = JOBS.c.team_id
    mine = column.in_(identity.team_ids) if identity.team_ids else false()
    return or_(column.is_(None), mine)


def _run_fill(write: JobWrite, status: str) -> dict[str, Any]:
    """The run columns this job fills in where the run has none yet."""
    fill = {name: write.columns.get(name) for name in RUN_FILLED}
    if TO_PADDLES.get(status) == "running":
        fill["started"] = utcnow()
    return fill


async def _create_queue(session: AsyncSession, name: str) -> None:
    """The queue a job waits in, created on first use."""
    now = utcnow()
    values = {"id": uuid.uuid4(), "name": name, "created_at": now, "updated_at": now}
    values |= {"etag": new_etag(), "state": "active", "data": {}}
    await session.execute(insert_ignoring_conflict(session, QUEUES, values))


def _queue_named() -> Any:
    name = bindparam("queue_name", type_=QUEUES.c.name.type)
    return select(QUEUES.c.id).where(QUEUES.c.name == name).scalar_subquery()


_INSERT_NODES = insert(JOB_NODES)


async def _set_targets(
    session: AsyncSession, job_id: uuid.UUID, targets: Sequence[str], *, new: bool = False
) -> None:
    if not new:
        await session.execute(delete(JOB_NODES).where(JOB_NODES.c.job_id == job_id))
    rows = [{"job_id": job_id, "node_name": name} for name in sorted(set(targets))]
    if rows:
        # One row is a plain execute: an executemany of one costs several times more.
        await session.execute(_INSERT_NODES, rows if len(rows) > 1 else rows[0])


@lru_cache(maxsize=256)
def _insert_job(dialect: str, columns: tuple[str, ...], queue: bool) -> Insert:
    """INSERT INTO jobs … SELECT … FROM runs WHERE name = :run_name, skipping a duplicate:
    finding the run and adding the job is one statement. Parameters: `run_name`, the
    `columns`, and `queue_name` when `queue`."""
    values: list[Any] = [bindparam(name, type_=JOBS.c[name].type) for name in columns]
    values += [RUNS.c.id, RUNS.c.team_id]
    targets = [*columns, "run_id", "team_id"]
    if queue:
        values.append(_queue_named())
        targets.append("queue_id")
    run_name = RUNS.c.name == bindparam("run_name", type_=RUNS.c.name.type)
    source = select(*values).where(run_name, listed_runs())
    statement = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(JOBS)
    shown = (*JOB_SHOWN, JOBS.c.id, JOBS.c.run_id, JOBS.c.team_id)
    return statement.from_select(targets, source).on_conflict_do_nothing().returning(*shown)


def _new_job(write: JobWrite, status: str) -> dict[str, Any]:
    now = utcnow()
    values: dict[str, Any] = {
        "id": uuid.uuid4(),
        "created_at": now,
        "updated_at": now,
        "etag": new_etag(),
        "state": "active",
        "posted": now,
        "priority": 0,
        "tags": [],
        **write.columns,
        "run_job_id": write.job_id,
        "status": status,
        "data": dict(write.data),
    }
    return values


async def _add_job(
    session: AsyncSession, run_name: str, values: Mapping[str, Any], queue: str | None
) -> Row | None:
    """The job added to the run named `run_name`; None if that run or the job exists not."""
    dialect = session.get_bind().dialect.name
    statement = _insert_job(dialect, tuple(values), queue is not None)
    parameters = {**values, "run_name": run_name}
    if queue is not None:
        parameters["queue_name"] = queue
    rows = as_rows(await session.execute(statement, parameters))
    return rows[0] if rows else None


async def create_job(
    session: AsyncSession, identity: Identity, run_name: str, write: JobWrite
) -> Row:
    """Add a job to a run (created if missing); a second job with the same id is a Conflict."""
    if not write.job_id:
        raise InvalidInput("could not find required key: 'job_id'")
    status = write.status or "unknown"
    values = _new_job(write, status)
    if write.queue is not None:
        await _create_queue(session, write.queue)
    created = await _add_job(session, run_name, values, write.queue)
    if created is None:
        # No run of that name yet (or the job exists): create the run, and try once more.
        await run_for_write(session, identity, run_name, create=True)
        created = await _add_job(session, run_name, values, write.queue)
    if created is None:
        raise Conflict(
            f"job with job_id {write.job_id} already exists", payload={"job_id": write.job_id}
        )
    job_pk, run_id, team_id = created.pop("id"), created.pop("run_id"), created.pop("team_id")
    # A job of a run another team owns is refused, and the unit of work takes it back.
    check_run_write(identity, team_id)
    if write.targets is not None:
        await _set_targets(session, job_pk, write.targets, new=True)
    await rollup.count_job_status(session, run_id, None, status, fill=_run_fill(write, status))
    return {**created, "run_name": run_name}


def _next_status(current: str, wanted: str | None) -> str:
    if wanted is None or (wanted == "dead" and current in FINISHED):
        return current
    return wanted


@lru_cache(maxsize=2)
def _locked_job(with_data: bool) -> Select[Any]:
    """The job `job_id` of the run `run_name`, locked; its data only when a write merges it."""
    run_name = RUNS.c.name == bindparam("run_name", type_=RUNS.c.name.type)
    job_id = JOBS.c.run_job_id == bindparam("job_id", type_=JOBS.c.run_job_id.type)
    columns = [JOBS.c.id, JOBS.c.status, JOBS.c.run_id, RUNS.c.team_id]
    if with_data:
        columns.append(JOBS.c.data)
    return (
        select(*columns)
        .join(RUNS, RUNS.c.id == JOBS.c.run_id)
        .where(run_name, listed_runs(), job_id)
        .with_for_update(of=JOBS)
    )


# The SET clause comes from the keys of the parameters (all but `job_pk`).
_UPDATE_JOB: Update = (
    update(JOBS).where(JOBS.c.id == bindparam("job_pk", type_=JOBS.c.id.type)).returning(*JOB_SHOWN)
)


async def _locked(
    session: AsyncSession, identity: Identity, run_name: str, job_id: str, with_data: bool
) -> Any:
    parameters = {"run_name": run_name, "job_id": job_id}
    current = (await session.execute(_locked_job(with_data), parameters)).first()
    if current is None:
        # Say why: no such run (or not the caller's to write), or no such job in it.
        await run_for_write(session, identity, run_name, create=False)
        raise NotFound(f"job {job_id} not found in run {run_name}", payload={"job_id": job_id})
    check_run_write(identity, current.team_id)
    return current


async def update_job(
    session: AsyncSession, identity: Identity, run_name: str, job_id: str, write: JobWrite
) -> Row:
    """Change some fields of a job; its id never changes, and a dead never hides a result."""
    if write.job_id is not None and write.job_id != job_id:
        raise InvalidInput("job_id cannot be changed")
    current = await _locked(session, identity, run_name, job_id, bool(write.data))
    status = _next_status(current.status, write.status)
    values: dict[str, Any] = {**write.columns, "status": status, "updated_at": utcnow()}
    values |= {"etag": new_etag(), "job_pk": current.id}
    if write.data:
        values["data"] = {**(current.data or {}), **write.data}
    statement = _UPDATE_JOB
    if write.queue is not None:
        await _create_queue(session, write.queue)
        statement = statement.values(queue_id=_queue_named())
        values["queue_name"] = write.queue
    updated = as_rows(await session.execute(statement, values))[0]
    if write.targets is not None:
        await _set_targets(session, current.id, write.targets)
    await rollup.count_job_status(
        session, current.run_id, current.status, status, fill=_run_fill(write, status)
    )
    return {**updated, "run_name": run_name}


async def delete_job(session: AsyncSession, identity: Identity, run_name: str, job_id: str) -> None:
    """Remove a job for good; the run's counters lose it in the same transaction."""
    run = await run_for_write(session, identity, run_name, create=False)
    statement = (
        delete(JOBS)
        .where(JOBS.c.run_id == run.id, JOBS.c.run_job_id == job_id)
        .returning(JOBS.c.status)
    )
    old = (await session.execute(statement)).scalar()
    if old is None:
        raise NotFound(f"job {job_id} not found in run {run_name}", payload={"job_id": job_id})
    await rollup.count_job_status(session, run.id, old, None)


def _run_jobs() -> Any:
    """Jobs joined to their (listed) run, with the run's name as `run_name`."""
    return (
        select(*JOB_SHOWN, RUNS.c.name.label("run_name"))
        .join(RUNS, RUNS.c.id == JOBS.c.run_id)
        .where(RUNS.c.state != literal_column("'archived'"))
    )


async def get_job(session: AsyncSession, identity: Identity, run_name: str, job_id: str) -> Row:
    """One job of a visible run."""
    statement = _run_jobs().where(
        RUNS.c.name == run_name, JOBS.c.run_job_id == job_id, visible_runs(identity)
    )
    found = (await session.execute(statement)).mappings().first()
    if found is None:
        raise NotFound(f"job {job_id} not found in run {run_name}", payload={"job_id": job_id})
    return dict(found)


@dataclass(frozen=True)
class JobFilter:
    equals: Mapping[str, Any] = field(default_factory=dict)  # promoted column → value
    statuses: Sequence[str] | None = None
    posted_since: datetime | None = None


async def search_jobs(
    session: AsyncSession, identity: Identity, filters: JobFilter, *, limit: int, offset: int
) -> list[Row]:
    """Jobs of runs, latest first, narrowed by promoted columns and statuses."""
    clauses = [JOBS.c[name] == value for name, value in filters.equals.items()]
    if filters.statuses is not None:
        clauses.append(JOBS.c.status.in_(filters.statuses))
    if filters.posted_since is not None:
        clauses.append(JOBS.c.created_at >= filters.posted_since)
    statement = (
        _run_jobs()
        .where(visible_jobs(identity), *clauses)
        .order_by(JOBS.c.created_at.desc(), JOBS.c.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return [dict(row) for row in (await session.execute(statement)).mappings()]


async def jobs_on_node(
    session: AsyncSession, identity: Identity, node_name: str, *, limit: int
) -> list[Row]:
    """The latest jobs that ran on a node (through `job_nodes`)."""
    statement = (
        _run_jobs()
        .join(JOB_NODES, JOB_NODES.c.job_id == JOBS.c.id)
        .where(JOB_NODES.c.node_name == node_name, visible_jobs(identity))
        .order_by(JOBS.c.created_at.desc(), JOBS.c.id.desc())
        .limit(limit)
    )
    return [dict(row) for row in (await session.execute(statement)).mappings()]


async def node_job_counts(
    session: AsyncSession,
    identity: Identity,
    *,
    since: datetime,
    machine_types: Sequence[str] | None = None,
) -> dict[str, dict[str, int]]:
    """node name → canonical status → number of jobs posted since `since` that ran on it."""
    statement = (
        select(JOB_NODES.c.node_name, JOBS.c.status, func.count())
        .join(JOBS, JOBS.c.id == JOB_NODES.c.job_id)
        .where(JOBS.c.created_at >= since, visible_jobs(identity))
        .group_by(JOB_NODES.c.node_name, JOBS.c.status)
    )
    if machine_types:
        statement = statement.where(JOBS.c.machine_type.in_(machine_types))
    counts: dict[str, dict[str, int]] = {}
    for node, status, count in (await session.execute(statement)).all():
        counts.setdefault(node, {})[status] = int(count)
    return counts
