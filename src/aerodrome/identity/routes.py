"""Identity routes: the caller, teams, users, remotecis, feeders and API tokens."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from starlette.responses import Response

from aerodrome.api import API_PREFIX
from aerodrome.api.crud import ERRORS, register_crud, with_parameters
from aerodrome.api.deps import Caller, DbSession, IfMatch, Reader
from aerodrome.api.listing import check_parameters, parse_list_query
from aerodrome.api.responses import JSONResponse, item_response, list_response
from aerodrome.api.routing import Route
from aerodrome.identity import access, schemas
from aerodrome.identity import service as identity_service
from aerodrome.identity.service import (
    USERS,
    AgentService,
    feeder_service,
    remoteci_service,
    team_service,
    user_service,
)

router = APIRouter(prefix=API_PREFIX, tags=["identity"], route_class=Route)


@router.get("/identity", name="get_identity", responses=ERRORS)
async def get_identity(identity: Caller) -> Response:
    """Who the caller is, which teams it belongs to and what it may do."""
    return JSONResponse(
        {
            "identity": {
                "id": identity.id,
                "name": identity.name,
                "email": identity.email,
                "type": identity.kind,
                # Keyed by id, as DCI answers: dciclient picks a default team from the keys.
                "teams": {str(t.id): {"id": t.id, "name": t.name} for t in identity.teams},
                "is_super_admin": identity.is_super_admin,
                "reads_all": identity.reads_all,
            }
        }
    )


register_crud(
    router, team_service, create_schema=schemas.TeamCreate, update_schema=schemas.TeamUpdate
)
register_crud(
    router, user_service, create_schema=schemas.UserCreate, update_schema=schemas.UserUpdate
)
register_crud(
    router,
    remoteci_service,
    create_schema=schemas.RemoteciCreate,
    update_schema=schemas.RemoteciUpdate,
)
register_crud(
    router, feeder_service, create_schema=schemas.AgentCreate, update_schema=schemas.AgentUpdate
)


def _register_secret_reset(service: AgentService) -> None:
    singular = service.resource.singular

    async def reset_api_secret(
        session: DbSession, identity: Caller, if_match: IfMatch, key: str
    ) -> Response:
        row = await service.reset_secret(session, identity, key, if_match=if_match)
        return item_response(singular, row)

    router.add_api_route(
        f"/{service.resource.plural}/{{{singular}_id}}/api_secret",
        with_parameters(reset_api_secret, key=f"{singular}_id"),
        methods=["PUT"],
        name=f"reset_{singular}_api_secret",
        summary=f"Give the {singular} a new API secret (needs If-Match)",
        responses=ERRORS,
    )


_register_secret_reset(remoteci_service)
_register_secret_reset(feeder_service)


async def get_remoteci_data(
    request: Request, session: DbSession, identity: Reader, remoteci_id: str
) -> Response:
    """The remoteci's `data` object itself; `keys=a,b` keeps only those top-level keys."""
    check_parameters(request.query_params, {"keys"})
    keys = request.query_params.get("keys")
    wanted = None if keys is None else [k for k in keys.split(",") if k]
    data = await remoteci_service.get_data(session, identity, remoteci_id, wanted)
    return JSONResponse(data)


# dciclient asks for `/data/?keys=...` when it filters and `/data` when it does not.
for _path in ("/remotecis/{remoteci_id}/data", "/remotecis/{remoteci_id}/data/"):
    router.add_api_route(
        _path,
        get_remoteci_data,
        methods=["GET"],
        name="get_remoteci_data",
        include_in_schema=_path.endswith("data"),
        responses=ERRORS,
    )


@router.get("/remotecis/{remoteci_id}/users", name="list_remoteci_users", responses=ERRORS)
async def list_remoteci_users(
    request: Request, session: DbSession, identity: Reader, remoteci_id: str
) -> Response:
    """The users attached to the remoteci (those the caller may see)."""
    query = parse_list_query(request.query_params, USERS)
    page = await remoteci_service.list_users(session, identity, remoteci_id, query)
    return list_response("users", page.rows, page.count)


@router.post(
    "/remotecis/{remoteci_id}/users",
    name="add_remoteci_user",
    status_code=201,
    responses=ERRORS,
)
async def add_remoteci_user(
    session: DbSession, identity: Caller, remoteci_id: str, body: schemas.RemoteciUserAdd
) -> Response:
    """Attach a user to the remoteci (members of the remoteci's team)."""
    row = await remoteci_service.add_user(session, identity, remoteci_id, body.user_id)
    return JSONResponse({"remoteci_user": row}, status_code=201)


@router.delete(
    "/remotecis/{remoteci_id}/users/{user_id}",
    name="remove_remoteci_user",
    status_code=204,
    responses=ERRORS,
)
async def remove_remoteci_user(
    session: DbSession, identity: Caller, remoteci_id: str, user_id: uuid.UUID
) -> Response:
    await remoteci_service.remove_user(session, identity, remoteci_id, user_id)
    return Response(status_code=204)


@router.get("/tokens", name="list_tokens", responses=ERRORS)
async def list_tokens(session: DbSession, identity: Caller) -> Response:
    """The caller's API tokens (never the tokens themselves)."""
    access.require_user(identity)
    assert identity.id is not None
    rows = await identity_service.list_tokens(session, identity.id)
    return JSONResponse({"tokens": rows, "_meta": {"count": len(rows)}})


@router.post("/tokens", name="create_token", status_code=201, responses=ERRORS)
async def create_token(session: DbSession, identity: Caller, body: schemas.TokenCreate) -> Response:
    """A new bearer token for the caller; the token is shown in this answer only."""
    access.require_user(identity)
    assert identity.id is not None
    row, token = await identity_service.create_token(session, identity.id, body)
    return JSONResponse({"token": {**row, "token": token}}, status_code=201)


@router.delete("/tokens/{token_id}", name="revoke_token", status_code=204, responses=ERRORS)
async def revoke_token(session: DbSession, identity: Caller, token_id: uuid.UUID) -> Response:
    access.require_user(identity)
    assert identity.id is not None
    await identity_service.revoke_token(session, identity.id, token_id)
    return Response(status_code=204)
