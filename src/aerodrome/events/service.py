"""The `jobs_events` change feed: appended in the transaction of every job status change, read
in `id` order from a consumer's sequence number, trimmed by super admins."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import ColumnElement, delete, func, insert, select, true, update
from sqlalchemy.ext.asyncio import AsyncSession

from aerodrome.db.base import new_etag
from aerodrome.db.resources import Page, Row
from aerodrome.db.types import utcnow
from aerodrome.errors import PreconditionFailed
from aerodrome.events.models import EventCursor, JobEvent
from aerodrome.identity import access
from aerodrome.identity.principal import Identity

jobs_events = JobEvent.__table__
cursors = EventCursor.__table__
JOBS_CURSOR = "jobs_events"


_INSERT_EVENTS = insert(jobs_events)


async def record_job_events(
    session: AsyncSession, jobs: Iterable[Mapping[str, Any]], action: str
) -> None:
    """Append one event per job (its id, team, topic and new status) in one INSERT."""
    now = utcnow()
    values = [
        {
            "created_at": now,
            "job_id": job["id"],
            "team_id": job.get("team_id"),
            "topic_id": job.get("topic_id"),
            "status": job.get("status"),
            "action": action,
        }
        for job in jobs
    ]
    if values:
        # One row is a plain execute: an executemany of one costs several times more.
        await session.execute(_INSERT_EVENTS, values if len(values) > 1 else values[0])


def _visible(identity: Identity) -> ColumnElement[bool]:
    if identity.sees_everything:
        return true()
    return jobs_events.c.team_id.in_(identity.team_ids)


async def list_job_events(
    session: AsyncSession, identity: Identity, *, after: int, limit: int, offset: int
) -> Page:
    """Events numbered above `after` that `identity` may see, oldest first."""
    where = (jobs_events.c.id > after, _visible(identity))
    stmt = select(jobs_events).where(*where).order_by(jobs_events.c.id).limit(limit).offset(offset)
    found = [dict(r) for r in (await session.execute(stmt)).mappings()]
    count_stmt = select(func.count()).select_from(jobs_events).where(*where)
    count = int((await session.execute(count_stmt)).scalar_one())
    return Page(rows=found, count=count)


async def trim_job_events(session: AsyncSession, identity: Identity, *, upto: int) -> int:
    """Remove the events numbered `upto` and below (super admins)."""
    access.require_super_admin(identity)
    result = await session.execute(delete(jobs_events).where(jobs_events.c.id <= upto))
    return int(result.rowcount)  # type: ignore[attr-defined]


async def get_sequence(session: AsyncSession, identity: Identity) -> Row:
    """The consumers' saved position in the feed (0 and a fresh etag until first saved)."""
    access.require_authenticated(identity)
    stmt = select(cursors.c.sequence, cursors.c.etag).where(cursors.c.name == JOBS_CURSOR)
    found = (await session.execute(stmt)).mappings().first()
    if found is None:
        return {"sequence": 0, "etag": _initial_etag()}
    return dict(found)


async def set_sequence(
    session: AsyncSession, identity: Identity, *, sequence: int, if_match: str
) -> Row:
    """Save the position; `if_match` must be the etag last read (412 otherwise)."""
    access.require_super_admin(identity)
    etag, now = new_etag(), utcnow()
    stmt = (
        update(cursors)
        .where(cursors.c.name == JOBS_CURSOR, cursors.c.etag == if_match)
        .values(sequence=sequence, etag=etag, updated_at=now)
    )
    if (await session.execute(stmt)).rowcount:  # type: ignore[attr-defined]
        return {"sequence": sequence, "etag": etag}
    if if_match != _initial_etag():
        raise PreconditionFailed("the jobs_events sequence has changed: the etag does not match")
    exists = select(cursors.c.name).where(cursors.c.name == JOBS_CURSOR)
    if (await session.execute(exists)).first() is not None:
        raise PreconditionFailed("the jobs_events sequence has changed: the etag does not match")
    values = {"name": JOBS_CURSOR, "sequence": sequence, "etag": etag, "updated_at": now}
    await session.execute(insert(cursors).values(values))
    return {"sequence": sequence, "etag": etag}


def _initial_etag() -> str:
    # The etag of a sequence never saved: stable, so that a first PUT can match it.
    return uuid.UUID(int=0).hex
