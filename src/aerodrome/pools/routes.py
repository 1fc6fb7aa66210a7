"""Native routes of nodes: `/api/v1/nodes`, and their lock operations."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import Response

from aerodrome.api import API_PREFIX
from aerodrome.api.crud import ERRORS, register_crud
from aerodrome.api.deps import Caller, DbSession
from aerodrome.api.responses import item_response, list_response
from aerodrome.api.routing import Route
from aerodrome.pools import schemas
from aerodrome.pools import service as pools

router = APIRouter(prefix=API_PREFIX, tags=["pools"], route_class=Route)


@router.post("/nodes/lock_many", responses=ERRORS)
async def lock_many_nodes(
    session: DbSession, identity: Caller, body: schemas.LockManyRequest
) -> Response:
    """Lock `count` free nodes of a machine type (a|b) for `locked_by`: all of them or none
    (409 when too few are free)."""
    filters = pools.NodeFilter(
        machine_types=body.machine_type.split("|"),
        os_type=body.os_type,
        os_version=body.os_version,
        arch=body.arch,
    )
    rows = await pools.lock_many(
        session,
        count=body.count,
        locked_by=body.locked_by,
        filters=filters,
        description=body.description,
    )
    return list_response("nodes", rows, len(rows))


@router.post("/nodes/unlock_many", responses=ERRORS)
async def unlock_many_nodes(
    session: DbSession, identity: Caller, body: schemas.UnlockManyRequest
) -> Response:
    """Unlock the named nodes, all or none: each must be locked by `locked_by`."""
    rows = await pools.unlock_many(session, names=body.names, locked_by=body.locked_by)
    return list_response("nodes", rows, len(rows))


@router.post("/nodes/{node_id}/lock", responses=ERRORS)
async def lock_node(
    session: DbSession, identity: Caller, node_id: str, body: schemas.LockRequest
) -> Response:
    """Lock one node (by id or name); a node already locked is a 403."""
    node = await pools.node_service.get(session, identity, node_id)
    row = await pools.lock_node(
        session, node["name"], locked_by=body.locked_by, description=body.description
    )
    return item_response("node", row)


@router.post("/nodes/{node_id}/unlock", responses=ERRORS)
async def unlock_node(
    session: DbSession, identity: Caller, node_id: str, body: schemas.LockRequest
) -> Response:
    """Unlock one node that `locked_by` holds; anyone else's lock is a 403."""
    node = await pools.node_service.get(session, identity, node_id)
    row = await pools.unlock_node(
        session, node["name"], locked_by=body.locked_by, description=body.description
    )
    return item_response("node", row)


register_crud(
    router,
    pools.node_service,
    create_schema=schemas.NodeCreate,
    update_schema=schemas.NodeUpdate,
)
