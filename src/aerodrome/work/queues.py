"""Queues: named, pausable lines of queued jobs, and the atomic claim of the next one.

A claim (`pop_queue`) takes the most urgent job (lowest priority number, as teuthology counts),
then the oldest, walking the partial index `ix_jobs_claimable`. On PostgreSQL the candidate
row is locked with `FOR UPDATE SKIP LOCKED`, so concurrent workers take different jobs without
waiting on each other; on SQLite the claim runs inside the single writer transaction. The
claimed job leaves the queue (status `waiting`), carries who claimed it, until when the lease
runs and how many times it was claimed, and the run's roll-up moves in the same transaction.
A lease that lapses (the worker fell silent) is dealt with by the dead-job expiry.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, literal_column, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from aerodrome.crud import ResourceService
from aerodrome.db import resources
from aerodrome.db.base import new_etag
from aerodrome.db.resources import Resource, Row
from aerodrome.db.types import utcnow
from aerodrome.errors import NotFound
from aerodrome.identity import access
from aerodrome.identity.principal import Identity
from aerodrome.work import rollup
from aerodrome.work.models import Job, Queue, Run
from aerodrome.work.status import QUEUED

QUEUES = Queue.__table__
JOBS = Job.__table__
RUNS = Run.__table__
QUEUE_RESOURCE = Resource("queue", "queues", QUEUES, alternate_keys=("name",))
CLAIMED = "waiting"
# A literal, so that the planner can prove the claim index's predicate (status = 'new').
_IS_QUEUED = JOBS.c.status == literal_column(f"'{QUEUED}'")


def is_paused(queue: Mapping[str, Any], now: datetime | None = None) -> bool:
    """Paused since some time, and either indefinitely or until a time still ahead."""
    if queue.get("paused_since") is None:
        return False
    until = queue.get("paused_until")
    return until is None or until > (now or utcnow())


async def get_queue(session: AsyncSession, name: str) -> Row:
    statement = select(QUEUES).where(QUEUES.c.name == name, _listed())
    found = (await session.execute(statement)).mappings().first()
    if found is None:
        raise NotFound(f"queue {name} does not exist", payload={"name": name})
    return dict(found)


def _listed() -> Any:
    return resources.not_archived(QUEUE_RESOURCE)


async def list_queues(session: AsyncSession) -> list[Row]:
    """Every queue with the number of jobs waiting in it (one grouped query)."""
    counts = (
        select(JOBS.c.queue_id, func.count().label("count"))
        .where(_IS_QUEUED, JOBS.c.queue_id.is_not(None))
        .group_by(JOBS.c.queue_id)
        .subquery()
    )
    statement = (
        select(QUEUES, func.coalesce(counts.c.count, 0).label("count"))
        .outerjoin(counts, counts.c.queue_id == QUEUES.c.id)
        .where(_listed())
        .order_by(QUEUES.c.name)
    )
    return [dict(row) for row in (await session.execute(statement)).mappings()]


async def create_queue(session: AsyncSession, name: str) -> Row:
    """A new, running queue; an existing name is a Conflict."""
    return await resources.insert_row(session, QUEUE_RESOURCE, {"name": name, "data": {}})


async def pause_queue(
    session: AsyncSession,
    name: str,
    *,
    paused: bool,
    paused_by: str | None = None,
    duration: float | None = None,
) -> Row:
    """Pause a queue (for `duration` seconds, or until resumed), or resume it."""
    now = utcnow()
    values: dict[str, Any] = {"paused_by": None, "paused_since": None, "paused_until": None}
    if paused:
        until = now + timedelta(seconds=duration) if duration else None
        values = {"paused_by": paused_by, "paused_since": now, "paused_until": until}
    statement = (
        update(QUEUES)
        .where(QUEUES.c.name == name, _listed())
        .values(**values, updated_at=now, etag=new_etag())
        .returning(QUEUES)
    )
    updated = (await session.execute(statement)).mappings().first()
    if updated is None:
        raise NotFound(f"queue {name} does not exist", payload={"name": name})
    return dict(updated)


async def queue_stats(session: AsyncSession, name: str) -> Row:
    """A queue with the number of jobs waiting in it."""
    queue = await get_queue(session, name)
    statement = select(func.count()).where(_IS_QUEUED, JOBS.c.queue_id == queue["id"])
    queue["count"] = int((await session.execute(statement)).scalar_one())
    return queue


async def queued_jobs(
    session: AsyncSession, name: str, *, owner: str | None = None, limit: int = 1000
) -> list[Row]:
    """The jobs waiting in a queue, in the order they will be claimed."""
    queue = await get_queue(session, name)
    statement = _claim_order(
        select(JOBS, RUNS.c.name.label("run_name"))
        .outerjoin(RUNS, RUNS.c.id == JOBS.c.run_id)
        .where(_IS_QUEUED, JOBS.c.queue_id == queue["id"])
    )
    if owner is not None:
        statement = statement.where(JOBS.c.owner == owner)
    return [dict(row) for row in (await session.execute(statement.limit(limit))).mappings()]


def _claim_order(statement: Any) -> Any:
    return statement.order_by(JOBS.c.priority, JOBS.c.created_at, JOBS.c.id)


def next_claim(queue_id: Any) -> Any:
    """The id of the job a claim takes, locked; concurrent claims skip it."""
    candidate = select(JOBS.c.id).where(_IS_QUEUED, JOBS.c.queue_id == queue_id)
    return _claim_order(candidate).limit(1).with_for_update(skip_locked=True)


async def pop_queue(
    session: AsyncSession, name: str, *, claimed_by: str, lease_seconds: float
) -> Row | None:
    """Claim the next job of a queue, or None when it is empty or paused."""
    queue = await get_queue(session, name)
    if is_paused(queue):
        return None
    job_id = (await session.execute(next_claim(queue["id"]))).scalar()
    if job_id is None:
        return None
    now = utcnow()
    values: dict[str, Any] = {"status": CLAIMED, "claimed_by": claimed_by, "updated_at": now}
    values |= {"etag": new_etag(), "claims": JOBS.c.claims + 1}
    values["lease_expires_at"] = now + timedelta(seconds=lease_seconds)
    statement = update(JOBS).where(JOBS.c.id == job_id, _IS_QUEUED).values(values).returning(JOBS)
    claimed = (await session.execute(statement)).mappings().one()
    await rollup.count_job_status(session, claimed["run_id"], QUEUED, CLAIMED)
    run_name = select(RUNS.c.name).where(RUNS.c.id == claimed["run_id"])
    return {**claimed, "run_name": (await session.execute(run_name)).scalar()}


class QueueService(ResourceService):
    """The native `/api/v1/queues`: signed-in users create and pause queues."""

    async def check_write(
        self, session: AsyncSession, identity: Identity, row: Mapping[str, Any]
    ) -> None:
        access.require_user(identity)


queue_service = QueueService(QUEUE_RESOURCE)
