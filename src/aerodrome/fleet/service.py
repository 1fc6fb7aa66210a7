"""Fleet rules: recording check-ins, and deriving each cluster's history from them.

A cluster's first seen, last seen and number of check-ins are aggregates of the append-only
`cluster_checkins` table, grouped by cluster in SQL (an index-only walk of
`(cluster_id, checked_in_at)`); its installed components are those of its latest check-in.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, func, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from aerodrome.catalog import releases
from aerodrome.db.resources import Row
from aerodrome.db.types import utcnow
from aerodrome.errors import AerodromeError, InvalidInput, NotFound
from aerodrome.fleet.models import Cluster, ClusterCheckin

checkins = ClusterCheckin.__table__
clusters = Cluster.__table__
RATE_WINDOW = timedelta(minutes=1)
# The derived history of a cluster, over its check-ins grouped by cluster.
first_seen = func.min(checkins.c.checked_in_at)
last_seen = func.max(checkins.c.checked_in_at)
checkin_count = func.count()


class RateLimited(AerodromeError):
    status_code = 429
    code = "rate_limited"


@dataclass(frozen=True)
class AgeFilter:
    """Clusters by first seen (`created_*`) and last seen (`checked_in_*`), bounds exclusive."""

    created_before: datetime | None = None
    created_after: datetime | None = None
    checked_in_before: datetime | None = None
    checked_in_after: datetime | None = None

    def check(self) -> None:
        """Refuse a combination no cluster can match, saying why (first seen ≤ last seen)."""
        impossible = [
            ("created_after", "created_before", "nothing is created after it is created before"),
            (
                "checked_in_after",
                "checked_in_before",
                "nothing last checks in after it last checks in before",
            ),
            (
                "created_after",
                "checked_in_before",
                "a cluster cannot last check in before it was created",
            ),
        ]
        for low, high, why in impossible:
            start, end = getattr(self, low), getattr(self, high)
            if start is not None and end is not None and start >= end:
                raise InvalidInput(
                    f"impossible filter: {low} ({start.isoformat()}) must be earlier than "
                    f"{high} ({end.isoformat()}): {why}",
                    payload={low: start.isoformat(), high: end.isoformat()},
                )

    def having(self) -> list[ColumnElement[bool]]:
        bounds = [
            (self.created_before, first_seen, "<"),
            (self.created_after, first_seen, ">"),
            (self.checked_in_before, last_seen, "<"),
            (self.checked_in_after, last_seen, ">"),
        ]
        return [
            column < value if op == "<" else column > value
            for value, column, op in bounds
            if value is not None
        ]


async def record_checkin(
    session: AsyncSession,
    *,
    cluster_id: str,
    components: list[dict[str, Any]],
    source_address: str,
    per_minute: int,
) -> None:
    """Append one check-in (registering the cluster on its first), unless `source_address`
    already sent `per_minute` check-ins in the last minute (0: no limit)."""
    now = utcnow()
    if per_minute:
        await _check_rate(session, source_address, now, per_minute)
    dialect = (await session.connection()).dialect.name
    insert_cluster = postgresql.insert if dialect == "postgresql" else sqlite.insert
    await session.execute(insert_cluster(clusters).values(id=cluster_id).on_conflict_do_nothing())
    await session.execute(
        insert(checkins).values(
            cluster_id=cluster_id,
            checked_in_at=now,
            source_address=source_address,
            components=components,
        )
    )


async def _check_rate(
    session: AsyncSession, source_address: str, now: datetime, per_minute: int
) -> None:
    recent = select(func.count()).where(
        checkins.c.source_address == source_address,
        checkins.c.checked_in_at > now - RATE_WINDOW,
    )
    if int((await session.execute(recent)).scalar_one()) >= per_minute:
        raise RateLimited(
            f"too many check-ins from {source_address}: at most {per_minute} a minute",
            payload={"per_minute": per_minute},
        )


def _summaries() -> Select[Any]:
    return select(
        checkins.c.cluster_id.label("id"),
        first_seen.label("first_seen"),
        last_seen.label("last_seen"),
        checkin_count.label("checkins"),
        func.max(checkins.c.id).label("last_checkin_id"),
    ).group_by(checkins.c.cluster_id)


def _clusters_statement(summary_query: Select[Any]) -> tuple[Select[Any], Select[Any]]:
    """Rows (with the latest check-in's components) and the count of a summary query."""
    summary = summary_query.subquery()
    rows = (
        select(
            summary.c.id,
            summary.c.first_seen,
            summary.c.last_seen,
            summary.c.checkins,
            checkins.c.components,
        )
        .join(checkins, checkins.c.id == summary.c.last_checkin_id)
        .order_by(summary.c.last_seen.desc(), summary.c.id)
    )
    return rows, select(func.count()).select_from(summary)


async def _fetch(session: AsyncSession, stmt: Select[Any]) -> list[Row]:
    return [dict(r) for r in (await session.execute(stmt)).mappings()]


async def get_cluster(session: AsyncSession, cluster_id: str) -> Row:
    """A cluster with its derived history and its updates available."""
    summary = _summaries().where(checkins.c.cluster_id == cluster_id)
    rows, _ = _clusters_statement(summary)
    found = await _fetch(session, rows)
    if not found:
        raise NotFound(f"cluster {cluster_id} not found", payload={"id": cluster_id})
    await attach_updates(session, found)
    return found[0]


async def list_clusters(
    session: AsyncSession, age: AgeFilter, *, limit: int | None = None, offset: int = 0
) -> tuple[list[Row], int]:
    """Clusters matching `age` (most recently seen first), and how many match in all."""
    age.check()
    summary = _summaries().having(*age.having())
    rows, count = _clusters_statement(summary)
    found = await _fetch(session, rows.limit(limit).offset(offset))
    total = int((await session.execute(count)).scalar_one())
    await attach_updates(session, found)
    return found, total


async def count_clusters(session: AsyncSession) -> int:
    """How many clusters ever checked in."""
    return int((await session.execute(select(func.count()).select_from(clusters))).scalar_one())


async def clusters_checked_in(
    session: AsyncSession, *, after: datetime | None, before: datetime | None
) -> list[Row]:
    """Clusters with at least one check-in inside (after, before)."""
    if after is not None and before is not None and after >= before:
        raise InvalidInput("impossible filter: created_after must be earlier than created_before")
    window = [
        condition
        for condition in (
            checkins.c.checked_in_at > after if after is not None else None,
            checkins.c.checked_in_at < before if before is not None else None,
        )
        if condition is not None
    ]
    inside = select(checkins.c.cluster_id).where(*window)
    rows, _ = _clusters_statement(_summaries().where(checkins.c.cluster_id.in_(inside)))
    found = await _fetch(session, rows)
    await attach_updates(session, found)
    return found


async def persistent_clusters(
    session: AsyncSession, *, epoch: datetime, timestamp: datetime
) -> list[Row]:
    """Clusters alive at `timestamp`: first seen between `epoch` and `timestamp`, seen more
    than once, and seen in the day before `timestamp`."""
    if epoch >= timestamp:
        raise InvalidInput("impossible filter: epoch must be earlier than timestamp")
    summary = _summaries().having(
        first_seen > epoch,
        first_seen < timestamp,
        checkin_count > 1,
        last_seen > timestamp - timedelta(days=1),
    )
    rows, _ = _clusters_statement(summary)
    found = await _fetch(session, rows)
    await attach_updates(session, found)
    return found


async def list_checkins(
    session: AsyncSession, cluster_id: str, *, limit: int, offset: int
) -> tuple[list[Row], int]:
    """A cluster's check-ins, newest first."""
    where = checkins.c.cluster_id == cluster_id
    stmt = (
        select(checkins.c.id, checkins.c.checked_in_at, checkins.c.components)
        .where(where)
        .order_by(checkins.c.id.desc())
        .limit(limit)
        .offset(offset)
    )
    found = await _fetch(session, stmt)
    count = select(func.count()).select_from(checkins).where(where)
    total = int((await session.execute(count)).scalar_one())
    if not total:
        raise NotFound(f"cluster {cluster_id} not found", payload={"id": cluster_id})
    return found, total


def installed(component: dict[str, Any]) -> tuple[str, str, str]:
    """(name, train, version) of a component as a cluster reports it."""
    version = component.get("version") or {}
    return (
        str((component.get("component") or {}).get("name", "")),
        str(version.get("train", "")),
        str(version.get("version", "")),
    )


async def attach_updates(session: AsyncSession, rows: Sequence[Row]) -> None:
    """Add `updates_available` to each cluster: for every installed component, the latest
    release of its train when it differs from the installed version (one query for all)."""
    pairs = [installed(c)[:2] for row in rows for c in row["components"]]
    latest = await releases.latest_releases(session, pairs)
    for row in rows:
        updates = []
        for component in row["components"]:
            name, train, version = installed(component)
            newest = latest.get((name, train))
            if newest is not None and newest["version"] != version:
                updates.append(
                    {
                        "name": name,
                        "train": train,
                        "installed": version,
                        "latest": newest["version"],
                    }
                )
        row["updates_available"] = updates
