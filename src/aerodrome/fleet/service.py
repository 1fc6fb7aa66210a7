"""Fleet rules: recording check-ins, and deriving each cluster's history from them.

A cluster's first seen, last seen and number of check-ins are aggregates of the append-only
`cluster_checkins` table, grouped by cluster in SQL (an index-only walk of
`(cluster_id, checked_in_at, id)`); its installed components are those of its latest check-in.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    FromClause,
    Integer,
    Select,
    bindparam,
    func,
    insert,
    or_,
    select,
    true,
)
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


# The statements of the hot paths are built once, with bind parameters: building them on
# every request cost more CPU than running them.
_CLUSTER_ID = bindparam("cluster_id", type_=checkins.c.cluster_id.type)
_SOURCE = bindparam("source_address", type_=checkins.c.source_address.type)
_NOW = bindparam("now", type_=checkins.c.checked_in_at.type)
_SINCE = bindparam("since", type_=checkins.c.checked_in_at.type)
_PER_MINUTE = bindparam("per_minute", type_=Integer())
_COMPONENTS = bindparam("components", type_=checkins.c.components.type)

# The address's check-ins in the window, counted up to the limit only (none when there is
# no limit): refusing a flood costs no more than the limit is high.
_RECENT = (
    select(func.count())
    .select_from(
        select(checkins.c.id)
        .where(checkins.c.source_address == _SOURCE, checkins.c.checked_in_at > _SINCE)
        .limit(_PER_MINUTE)
        .subquery()
    )
    .scalar_subquery()
)
# The cluster's history before this check-in, and how many check-ins its address sent.
_BEFORE = select(
    first_seen.label("first_seen"),
    last_seen.label("last_seen"),
    checkin_count.label("checkins"),
    _RECENT.label("recent"),
).where(checkins.c.cluster_id == _CLUSTER_ID)
_INSERT_CHECKIN = insert(checkins).values(
    cluster_id=_CLUSTER_ID,
    checked_in_at=_NOW,
    source_address=_SOURCE,
    components=_COMPONENTS,
)
_INSERT_CLUSTER_SQLITE = sqlite.insert(clusters).values(id=_CLUSTER_ID).on_conflict_do_nothing()


def _with_latest_versions(before: FromClause) -> Select[Any]:
    """`before`'s one row, once per latest release of the pairs bound to `pairs` (once with
    nulls when there is none): the check-in's updates come in the same round trip."""
    latest = releases.LATEST_VERSIONS.subquery("latest")
    return select(before, latest.c.name, latest.c.train, latest.c.version).outerjoin_from(
        before, latest, true()
    )


def _checkin_in_one_statement() -> Select[Any]:
    """PostgreSQL: the rate check, both inserts, the history before them and the latest
    releases in one round trip. The inserts happen only when the address is under its limit;
    the cluster's new row satisfies the check-in's foreign key, checked at the statement's end."""
    before = _BEFORE.cte("before")
    allowed = or_(_PER_MINUTE == 0, before.c.recent < _PER_MINUTE)
    new_cluster = (
        postgresql.insert(clusters)
        .from_select(["id"], select(_CLUSTER_ID).where(allowed))
        .on_conflict_do_nothing()
        .cte("new_cluster")
    )
    new_checkin = (
        insert(checkins)
        .from_select(
            ["cluster_id", "checked_in_at", "source_address", "components"],
            select(_CLUSTER_ID, _NOW, _SOURCE, _COMPONENTS).where(allowed),
        )
        .cte("new_checkin")
    )
    return _with_latest_versions(before).add_cte(new_cluster, new_checkin)


_CHECKIN_POSTGRESQL = _checkin_in_one_statement()
# SQLite cannot insert inside a WITH: it reads first, then inserts, in the same transaction.
_BEFORE_CHECKIN = _with_latest_versions(_BEFORE.subquery("before"))


async def record_checkin(
    session: AsyncSession,
    *,
    cluster_id: str,
    components: list[dict[str, Any]],
    source_address: str,
    per_minute: int,
) -> Row:
    """Append one check-in (registering the cluster on its first), unless `source_address`
    already sent `per_minute` check-ins in the last minute (0: no limit); answer the cluster
    as `get_cluster` does, this check-in being its latest."""
    now = utcnow()
    params = {
        "cluster_id": cluster_id,
        "source_address": source_address,
        "now": now,
        "since": now - RATE_WINDOW,
        "per_minute": per_minute,
        "components": components,
        **releases.pairs_parameter([installed(c)[:2] for c in components]),
    }
    dialect = (await session.connection()).dialect.name
    if dialect == "postgresql":
        rows = (await session.execute(_CHECKIN_POSTGRESQL, params)).all()
        _check_rate(rows[0].recent, source_address, per_minute)
    else:
        rows = (await session.execute(_BEFORE_CHECKIN, params)).all()
        _check_rate(rows[0].recent, source_address, per_minute)
        await session.execute(_INSERT_CLUSTER_SQLITE, params)
        await session.execute(_INSERT_CHECKIN, params)
    row = _history_after(rows[0], cluster_id, now, components)
    latest = {(r.name, r.train): r.version for r in rows if r.name is not None}
    row["updates_available"] = _updates(components, latest)
    return row


def _check_rate(recent: int, source_address: str, per_minute: int) -> None:
    if per_minute and recent >= per_minute:
        raise RateLimited(
            f"too many check-ins from {source_address}: at most {per_minute} a minute",
            payload={"per_minute": per_minute},
        )


def _history_after(
    before: Any, cluster_id: str, now: datetime, components: list[dict[str, Any]]
) -> Row:
    """The derived history once this check-in is added to `before` (as the aggregates over
    all check-ins would give it: processes' clocks may differ a little)."""
    seen = [now] if not before.checkins else [before.first_seen, before.last_seen, now]
    return {
        "id": cluster_id,
        "first_seen": min(seen),
        "last_seen": max(seen),
        "checkins": before.checkins + 1,
        "components": components,
    }


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


def _one_cluster() -> Select[Any]:
    summary = (
        select(
            first_seen.label("first_seen"),
            last_seen.label("last_seen"),
            checkin_count.label("checkins"),
            func.max(checkins.c.id).label("last_checkin_id"),
        )
        .where(checkins.c.cluster_id == _CLUSTER_ID)
        .subquery()
    )
    return select(
        _CLUSTER_ID.label("id"),
        summary.c.first_seen,
        summary.c.last_seen,
        summary.c.checkins,
        checkins.c.components,
    ).join_from(summary, checkins, checkins.c.id == summary.c.last_checkin_id)


_ONE_CLUSTER = _one_cluster()


async def get_cluster(session: AsyncSession, cluster_id: str) -> Row:
    """A cluster with its derived history and its updates available."""
    found = (await session.execute(_ONE_CLUSTER, {"cluster_id": cluster_id})).mappings().first()
    if found is None:
        raise NotFound(f"cluster {cluster_id} not found", payload={"id": cluster_id})
    row = dict(found)
    await attach_updates(session, [row])
    return row


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
    latest = await releases.latest_versions(session, pairs)
    for row in rows:
        row["updates_available"] = _updates(row["components"], latest)


def _updates(
    components: list[dict[str, Any]], latest: Mapping[tuple[str, str], str]
) -> list[dict[str, str]]:
    updates = []
    for component in components:
        name, train, version = installed(component)
        newest = latest.get((name, train))
        if newest is not None and newest != version:
            updates.append({"name": name, "train": train, "installed": version, "latest": newest})
    return updates
