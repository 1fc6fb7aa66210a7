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

from sqlalchemy import (
    Column,
    ColumnElement,
    Select,
    and_,
    bindparam,
    func,
    literal_column,
    select,
    tuple_,
)
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


def _latest_statement(columns: Sequence[Column[Any]]) -> Select[Any]:
    """`columns` of the newest release of each pair bound to `pairs`, in one statement (a
    window over the pairs' rows)."""
    wanted = tuple_(components.c.name, components.c.train).in_(bindparam("pairs", expanding=True))
    rank = (
        func.row_number()
        .over(partition_by=(components.c.name, components.c.train), order_by=_NEWEST_FIRST)
        .label("rank")
    )
    ranked = select(*columns, rank).where(_published(), wanted).subquery()
    return select(*(ranked.c[c.name] for c in columns)).where(ranked.c.rank == 1)


# Built once, with the pairs as a parameter: building it on every call was a seventh of the
# CPU of a Deis check-in.
_LATEST = _latest_statement(list(components.c))
# (name, train, version) of the newest release of each pair bound to `pairs` (see
# `pairs_parameter`), for a caller that needs only the version, in a statement of its own.
LATEST_VERSIONS = _latest_statement([components.c.name, components.c.train, components.c.version])


def pairs_parameter(pairs: Sequence[Pair]) -> dict[str, list[Pair]]:
    """The parameter of the latest-release statements for `pairs` (each once)."""
    return {"pairs": list(dict.fromkeys(pairs))}


async def latest_releases(session: AsyncSession, pairs: Sequence[Pair]) -> dict[Pair, Row]:
    """The newest release of each requested (name, train) that has one."""
    if not pairs:
        return {}
    result = await session.execute(_LATEST, pairs_parameter(pairs))
    return {(r["name"], r["train"]): _public(r) for r in result.mappings()}


async def latest_versions(session: AsyncSession, pairs: Sequence[Pair]) -> dict[Pair, str]:
    """The version of the newest release of each requested (name, train) that has one: what
    `latest_releases` finds, without reading the rest of each row."""
    if not pairs:
        return {}
    result = await session.execute(LATEST_VERSIONS, pairs_parameter(pairs))
    return {(name, train): version for name, train, version in result}


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
