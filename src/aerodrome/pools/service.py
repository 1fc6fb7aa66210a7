"""Nodes and their locks.

Every lock change is one conditional UPDATE (`… WHERE locked = false`), so the database decides
every race: two callers never both lock a node. `lock_many` picks free nodes with
`FOR UPDATE SKIP LOCKED` on PostgreSQL (concurrent callers take different nodes instead of
queueing on the same ones) and inside SQLite's single writer transaction; it takes all the
nodes it was asked for or none.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from aerodrome.crud import ResourceService
from aerodrome.db import resources
from aerodrome.db.base import new_etag
from aerodrome.db.resources import Resource, Row
from aerodrome.db.types import utcnow
from aerodrome.errors import Conflict, Forbidden, InvalidInput, NotFound
from aerodrome.identity import access
from aerodrome.identity.principal import Identity
from aerodrome.pools.models import Node

NODES = Node.__table__
C = NODES.c
NODE_RESOURCE = Resource("node", "nodes", NODES, alternate_keys=("name",))
# Node fields a client may set (the lock fields change only through lock and unlock).
NODE_FIELDS = (
    "machine_type",
    "os_type",
    "os_version",
    "arch",
    "description",
    "up",
    "mac_address",
    "ssh_pub_key",
    "vm_host",
    "is_vm",
    "data",
)


class NotEnoughNodes(Conflict):
    """Fewer free nodes than asked for: a conflict with the current state, worth retrying
    (the native API answers 409, the paddles façade 503 as paddles does)."""

    code = "not_enough_nodes"


@dataclass(frozen=True)
class NodeFilter:
    locked: bool | None = None
    up: bool | None = None
    machine_types: Sequence[str] | None = None
    os_type: str | None = None
    os_version: str | None = None
    arch: str | None = None
    locked_by: str | None = None


def _where(filters: NodeFilter) -> list[ColumnElement[bool]]:
    clauses: list[ColumnElement[bool]] = [resources.not_archived(NODE_RESOURCE)]
    if filters.locked is not None:
        clauses.append(C.locked if filters.locked else ~C.locked)
    if filters.up is not None:
        clauses.append(C.up if filters.up else ~C.up)
    if filters.machine_types:
        clauses.append(C.machine_type.in_(filters.machine_types))
    for name in ("os_type", "os_version", "arch", "locked_by"):
        value = getattr(filters, name)
        if value is not None:
            clauses.append(C[name] == value)
    return clauses


async def list_nodes(session: AsyncSession, filters: NodeFilter, *, limit: int | None) -> list[Row]:
    """Nodes matching `filters`, by name."""
    statement = select(NODES).where(*_where(filters)).order_by(C.name).limit(limit)
    return [dict(row) for row in (await session.execute(statement)).mappings()]


async def machine_types(session: AsyncSession) -> list[str]:
    """Every machine type some node has, sorted."""
    statement = (
        select(C.machine_type)
        .where(C.machine_type.is_not(None), resources.not_archived(NODE_RESOURCE))
        .group_by(C.machine_type)
        .order_by(C.machine_type)
    )
    return [str(name) for name in (await session.execute(statement)).scalars()]


async def get_node(session: AsyncSession, name: str) -> Row:
    statement = select(NODES).where(C.name == name, resources.not_archived(NODE_RESOURCE))
    found = (await session.execute(statement)).mappings().first()
    if found is None:
        raise NotFound(f"node {name} not found", payload={"name": name})
    return dict(found)


async def create_node(session: AsyncSession, name: str, values: Mapping[str, Any]) -> Row:
    """A new node, unlocked; a name already taken is a Conflict."""
    return await resources.insert_row(
        session, NODE_RESOURCE, {"name": name, "locked": False, **_settable(values)}
    )


async def update_node(session: AsyncSession, name: str, values: Mapping[str, Any]) -> Row:
    """Change a node's inventory fields (not its lock)."""
    changes = _settable(values)
    statement = (
        update(NODES)
        .where(C.name == name, resources.not_archived(NODE_RESOURCE))
        .values(**changes, updated_at=utcnow(), etag=new_etag())
        .returning(NODES)
    )
    updated = (await session.execute(statement)).mappings().first()
    if updated is None:
        raise NotFound(f"node {name} not found", payload={"name": name})
    return dict(updated)


async def delete_node(session: AsyncSession, name: str) -> None:
    result = await session.execute(delete(NODES).where(C.name == name).returning(C.id))
    if result.first() is None:
        raise NotFound(f"node {name} not found", payload={"name": name})


def _settable(values: Mapping[str, Any]) -> dict[str, Any]:
    return {key: values[key] for key in NODE_FIELDS if key in values}


def _lock_values(locked_by: str, description: str | None) -> dict[str, Any]:
    now = utcnow()
    values: dict[str, Any] = {"locked": True, "locked_by": locked_by, "locked_since": now}
    values |= {"updated_at": now, "etag": new_etag()}
    if description is not None:
        values["description"] = description
    return values


def _require_owner(locked_by: str | None) -> str:
    if not locked_by:
        raise InvalidInput("cannot lock or unlock a node without locked_by")
    return locked_by


async def lock_node(
    session: AsyncSession, name: str, *, locked_by: str | None, description: str | None = None
) -> Row:
    """Lock one free node for `locked_by`; a locked node is a 403."""
    owner = _require_owner(locked_by)
    statement = (
        update(NODES)
        .where(C.name == name, ~C.locked, resources.not_archived(NODE_RESOURCE))
        .values(_lock_values(owner, description))
        .returning(NODES)
    )
    locked = (await session.execute(statement)).mappings().first()
    if locked is None:
        current = await get_node(session, name)
        raise Forbidden(f"cannot lock {name}: it is already locked by {current['locked_by']}")
    return dict(locked)


async def unlock_node(
    session: AsyncSession, name: str, *, locked_by: str | None, description: str | None = None
) -> Row:
    """Unlock a node that `locked_by` holds; anyone else's lock (or no lock) is a 403."""
    owner = _require_owner(locked_by)
    values: dict[str, Any] = {"locked": False, "locked_by": None, "locked_since": None}
    values |= {"updated_at": utcnow(), "etag": new_etag()}
    if description is not None:
        values["description"] = description
    statement = (
        update(NODES)
        .where(C.name == name, C.locked, C.locked_by == owner)
        .values(values)
        .returning(NODES)
    )
    unlocked = (await session.execute(statement)).mappings().first()
    if unlocked is None:
        current = await get_node(session, name)
        if not current["locked"]:
            raise Forbidden(f"cannot unlock {name}: it is not locked")
        raise Forbidden(f"cannot unlock {name}: it is locked by {current['locked_by']}")
    return dict(unlocked)


async def lock_many(
    session: AsyncSession,
    *,
    count: int,
    locked_by: str | None,
    filters: NodeFilter,
    description: str | None = None,
) -> list[Row]:
    """Lock `count` free, up nodes matching `filters`, all or none.

    As paddles does, a caller asking again with the same `description` (a job locking its
    machines a second time) first gets back nodes it already holds for it, when it holds at
    least `count`."""
    owner = _require_owner(locked_by)
    if count < 1:
        raise InvalidInput("count must be a positive integer")
    if description is not None:
        held = NodeFilter(**{**filters.__dict__, "locked": True, "up": True, "locked_by": owner})
        reused = await _relock(session, held, description, count)
        if reused is not None:
            return reused
    free = NodeFilter(**{**filters.__dict__, "locked": False, "up": True})
    ids = list((await session.execute(free_nodes(free, count))).scalars())
    if len(ids) < count:
        available = await _count(session, free)
        raise NotEnoughNodes(f"only {available} nodes available", payload={"available": available})
    statement = (
        update(NODES)
        .where(C.id.in_(ids), ~C.locked)
        .values(_lock_values(owner, description))
        .returning(NODES)
    )
    locked = [dict(row) for row in (await session.execute(statement)).mappings()]
    if len(locked) < count:  # cannot happen under the row locks; never hand out part of a set
        raise NotEnoughNodes(f"only {len(locked)} nodes available")
    return sorted(locked, key=lambda row: str(row["name"]))


async def _relock(
    session: AsyncSession, held: NodeFilter, description: str, count: int
) -> list[Row] | None:
    """`count` nodes matching `held` locked with `description`, their lock renewed; None when
    there are fewer."""
    mine = select(C.id).where(*_where(held), C.description == description).order_by(C.name)
    ids = list((await session.execute(mine.limit(count).with_for_update())).scalars())
    if len(ids) < count:
        return None
    statement = (
        update(NODES)
        .where(C.id.in_(ids))
        .values(updated_at=utcnow(), etag=new_etag())
        .returning(NODES)
    )
    return sorted(
        (dict(row) for row in (await session.execute(statement)).mappings()),
        key=lambda row: str(row["name"]),
    )


def free_nodes(filters: NodeFilter, count: int) -> Select[Any]:
    """The ids of `count` free nodes, locked for this transaction; others skip them."""
    return (
        select(C.id)
        .where(*_where(filters))
        .order_by(C.name)
        .limit(count)
        .with_for_update(skip_locked=True)
    )


async def _count(session: AsyncSession, filters: NodeFilter) -> int:
    statement = select(func.count()).select_from(NODES).where(*_where(filters))
    return int((await session.execute(statement)).scalar_one())


async def unlock_many(
    session: AsyncSession, *, names: Sequence[str], locked_by: str | None
) -> list[Row]:
    """Unlock every named node, all or none: each must be locked by `locked_by`."""
    owner = _require_owner(locked_by)
    wanted = sorted(set(names))
    if not wanted:
        raise InvalidInput("names must list at least one node")
    values: dict[str, Any] = {"locked": False, "locked_by": None, "locked_since": None}
    statement = (
        update(NODES)
        .where(C.name.in_(wanted), C.locked, C.locked_by == owner)
        .values(**values, updated_at=utcnow(), etag=new_etag())
        .returning(NODES)
    )
    unlocked = [dict(row) for row in (await session.execute(statement)).mappings()]
    if len(unlocked) != len(wanted):
        missing = sorted(set(wanted) - {row["name"] for row in unlocked})
        raise Forbidden(
            f"cannot unlock nodes not locked by {owner}: {', '.join(missing)}",
            payload={"names": missing},
        )
    return unlocked


class NodeService(ResourceService):
    """The native `/api/v1/nodes`: super admins keep the inventory; locks go through the
    lock operations, which any signed-in caller may use."""

    async def check_write(
        self, session: AsyncSession, identity: Identity, row: Mapping[str, Any]
    ) -> None:
        access.require_super_admin(identity)


node_service = NodeService(NODE_RESOURCE)
