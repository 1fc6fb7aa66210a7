"""Dead-job expiry: paddles jobs that stopped reporting become `dead`.

A job claimed from a queue holds a lease that its worker renews by writing the job. When
`requeue_lapsed_claims` is set, a claim that lapses while the job still waits sends the job back
to its queue (up to that many claims) instead of killing it: a worker that died after
`pop_queue` does not lose the job.

Every app process runs the loop; each round is one unit of work whose UPDATEs are conditional
(`status = 'running' AND updated_at < cutoff`), so a second process finds nothing left to do and
no run counter moves twice. On PostgreSQL the round also takes a transaction-scoped advisory
lock and skips when another process holds it, so only one process does the work per round.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections import Counter
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, Update, literal_column, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from aerodrome import periodic
from aerodrome.db.base import new_etag
from aerodrome.db.session import Database
from aerodrome.db.types import utcnow
from aerodrome.settings import Settings
from aerodrome.work import rollup
from aerodrome.work.models import Job
from aerodrome.work.queues import CLAIMED
from aerodrome.work.status import QUEUED

logger = logging.getLogger("aerodrome.expiry")
JOBS = Job.__table__
# Statuses of a job that should still be reporting: running, waiting for nodes, or unknown.
ACTIVE = ("pre-run", "running", "post-run", "waiting", "unknown")
DEAD = "dead"
_LOCK_KEY = 0x6165726F  # "aero": the advisory lock of the expiry round
BATCH = 1000


async def _take_round(session: AsyncSession) -> bool:
    if session.get_bind().dialect.name != "postgresql":
        return True  # SQLite: the round already holds the single writer lock
    taken = await session.execute(
        text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": _LOCK_KEY}
    )
    return bool(taken.scalar())


def _silent(status: str, cutoff: datetime) -> list[ColumnElement[bool]]:
    """Paddles jobs of `status` not written since `cutoff`: the predicate of the partial index
    ix_jobs_paddles_silent, which DCI jobs (no `run_job_id`) are not in."""
    return [
        JOBS.c.status == literal_column(f"'{status}'"),
        JOBS.c.updated_at < cutoff,
        JOBS.c.run_job_id.is_not(None),
    ]


def silent_jobs(status: str, cutoff: datetime) -> Select[Any]:
    """Up to BATCH paddles jobs of `status` not written since `cutoff`."""
    return select(JOBS.c.id).where(*_silent(status, cutoff)).limit(BATCH)


def expire_statement(status: str, cutoff: datetime, now: datetime) -> Update:
    # The conditions again around the subquery: a job written since it read it stays alive.
    # All of them, `run_job_id` too: without it PostgreSQL walked every DCI job of `status`
    # (23,000 new ones of a million: 20 ms a round) to join them with the subquery.
    return (
        update(JOBS)
        .where(
            JOBS.c.id.in_(silent_jobs(status, cutoff).scalar_subquery()), *_silent(status, cutoff)
        )
        .values(status=DEAD, updated_at=now, etag=new_etag())
        .returning(JOBS.c.run_id)
    )


async def _expire(
    session: AsyncSession, status: str, cutoff: datetime, now: datetime
) -> list[uuid.UUID | None]:
    """Mark up to BATCH paddles jobs of `status` silent since `cutoff` dead; their runs."""
    return list((await session.execute(expire_statement(status, cutoff, now))).scalars())


async def _requeue_lapsed(
    session: AsyncSession, requeues: int, cutoff: datetime, now: datetime
) -> list[uuid.UUID | None]:
    """Send up to BATCH claimed jobs whose worker is silent since `cutoff` back to their queue,
    unless they were claimed more than `requeues` times already; their runs."""
    lapsed = silent_jobs(CLAIMED, cutoff).where(
        JOBS.c.claimed_by.is_not(None),
        JOBS.c.queue_id.is_not(None),
        JOBS.c.claims <= requeues,
    )
    statement = (
        update(JOBS)
        .where(JOBS.c.id.in_(lapsed.scalar_subquery()), *_silent(CLAIMED, cutoff))
        .values(status=QUEUED, claimed_by=None, lease_expires_at=None)
        .values(updated_at=now, etag=new_etag())
        .returning(JOBS.c.run_id)
    )
    return list((await session.execute(statement)).scalars())


async def expire_silent_jobs(session: AsyncSession, settings: Settings, now: datetime) -> int:
    """One round in the caller's unit of work; returns how many jobs it marked dead or, for
    lapsed claims when `requeue_lapsed_claims` allows, sent back to their queue."""
    if not await _take_round(session):
        return 0
    running_cutoff = now - timedelta(seconds=settings.job_dead_after_seconds)
    queued_cutoff = now - timedelta(seconds=settings.queued_dead_after_seconds)
    changes: list[tuple[uuid.UUID | None, tuple[str, str]]] = []
    if settings.requeue_lapsed_claims:
        requeues = settings.requeue_lapsed_claims
        lapsed = await _requeue_lapsed(session, requeues, running_cutoff, now)
        changes += [(run_id, (CLAIMED, QUEUED)) for run_id in lapsed]
    for status, cutoff in [*((s, running_cutoff) for s in ACTIVE), (QUEUED, queued_cutoff)]:
        expired = await _expire(session, status, cutoff, now)
        changes += [(run_id, (status, DEAD)) for run_id in expired]
    moves: dict[uuid.UUID, Counter[tuple[str | None, str | None]]] = {}
    for run_id, move in changes:
        if run_id is not None:
            moves.setdefault(run_id, Counter())[move] += 1
    for run_id, run_moves in moves.items():
        await rollup.count_job_moves(session, run_id, run_moves)
    return len(changes)


async def expiry_round(database: Database, settings: Settings) -> int:
    """One round as its own unit of work."""
    async with database.unit_of_work() as session:
        return await expire_silent_jobs(session, settings, utcnow())


async def run_expiry(database: Database, settings: Settings, stop: asyncio.Event) -> None:
    """Expire silent jobs every `expiry_interval_seconds` until `stop` is set."""

    async def expire() -> None:
        expired = await expiry_round(database, settings)
        if expired:
            logger.info("marked %d silent jobs dead or put them back in their queue", expired)

    await periodic.repeat(expire, settings.expiry_interval_seconds, stop, "dead-job expiry round")
