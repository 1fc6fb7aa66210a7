"""Releases: public components on a release train (Deis), read as "the latest on a train".

A release is a component of type `release`, unique by (name, train, version). The newest
release of a train is the one released last; equal release times are ordered by version,
then id, so that every reader and every multi-get gives the same answer.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, false, func, literal_column, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from aerodrome.catalog.service import COMPONENTS, component_service
from aerodrome.db.base import new_etag
from aerodrome.db.resources import Row, not_archived
from aerodrome.db.types import utcnow
from aerodrome.errors import NotFound
from aerodrome.identity.principal import Identity

RELEASE_TYPE = "release"
Pair = tuple[str, str]  # (component name, train)

components = COMPONENTS.table
_NEWEST_FIRST = (
    components.c.released_at.desc(),
    components.c.version.desc(),
    components.c.id.desc(),
)


def _published() -> ColumnElement[bool]:
    """Releases anyone may read: public (no team), not archived, with a release time."""
    return and_(
        not_archived(COMPONENTS),
        components.c.team_id.is_(None),
        components.c.released_at.is_not(None),
    )


def _on_train(name: str, train: str) -> ColumnElement[bool]:
    return and_(components.c.name == name, components.c.train == train)


def _public(row: Mapping[Any, Any]) -> Row:
    return COMPONENTS.public_row(row)


async def list_releases(session: AsyncSession, *, name: str, train: str) -> list[Row]:
    """Every release of `name` on `train`, newest first."""
    stmt = select(components).where(_published(), _on_train(name, train)).order_by(*_NEWEST_FIRST)
    return [_public(r) for r in (await session.execute(stmt)).mappings()]


async def get_release(session: AsyncSession, *, name: str, train: str, version: str) -> Row:
    """One release; `version` may be `latest`. NotFound when there is none."""
    if version == "latest":
        found = (await latest_releases(session, [(name, train)])).get((name, train))
    else:
        stmt = select(components).where(
            _published(), _on_train(name, train), components.c.version == version
        )
        row = (await session.execute(stmt.order_by(*_NEWEST_FIRST).limit(1))).mappings().first()
        found = _public(row) if row is not None else None
    if found is None:
        raise NotFound(
            f"no release {version} of {name} on train {train}",
            payload={"name": name, "train": train, "version": version},
        )
    return found


def _latest_statement(pairs: Sequence[Pair]) -> Select[Any]:
    """The newest release of each pair, in one statement (a window over the pairs' rows)."""
    wanted = or_(false(), *(_on_train(name, train) for name, train in pairs))
    rank = (
        func.row_number()
        .over(partition_by=(components.c.name, components.c.train), order_by=_NEWEST_FIRST)
        .label("rank")
    )
    ranked = select(components, rank).where(_published(), wanted).subquery()
    columns = [ranked.c[c.name] for c in components.c]
    return select(*columns).where(ranked.c.rank == 1)


async def latest_releases(session: AsyncSession, pairs: Sequence[Pair]) -> dict[Pair, Row]:
    """The newest release of each requested (name, train) that has one."""
    unique = list(dict.fromkeys(pairs))
    if not unique:
        return {}
    result = await session.execute(_latest_statement(unique))
    return {(r["name"], r["train"]): _public(r) for r in result.mappings()}


async def publish_release(
    session: AsyncSession,
    identity: Identity,
    *,
    name: str,
    train: str,
    version: str,
    released_at: datetime | None,
    data: dict[str, Any],
) -> Row:
    """Create or replace release (name, train, version) in one statement (an upsert on the
    unique index), so that concurrent publishers of the same release cannot clash."""
    await component_service.check_write(session, identity, {"team_id": None, "topic_id": None})
    now = utcnow()
    values = {
        "id": uuid.uuid4(),
        "name": name,
        "type": RELEASE_TYPE,
        "train": train,
        "version": version,
        "released_at": released_at or now,
        "data": data,
        "tags": [],
        "created_at": now,
        "updated_at": now,
        "etag": new_etag(),
        "state": "active",
    }
    dialect = (await session.connection()).dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert(components).values(values)
    upsert = stmt.on_conflict_do_update(
        index_elements=["name", "train", "version"],
        # A literal: the database must see that it implies the partial index's predicate.
        index_where=components.c.type == literal_column(f"'{RELEASE_TYPE}'"),
        set_={
            key: stmt.excluded[key]
            for key in ("released_at", "data", "updated_at", "etag", "state")
        },
    ).returning(*components.c)
    return _public((await session.execute(upsert)).mappings().one())
