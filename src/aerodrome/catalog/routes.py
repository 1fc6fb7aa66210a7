"""Catalog routes: `/products` (and their teams), `/topics` (and their components),
`/componenttypes` and `/components`."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from starlette.responses import Response

from aerodrome.api import API_PREFIX
from aerodrome.api.crud import ERRORS, register_crud
from aerodrome.api.deps import Caller, DbSession, Reader
from aerodrome.api.listing import parse_list_query
from aerodrome.api.responses import JSONResponse, list_response
from aerodrome.api.routing import Route
from aerodrome.catalog import schemas
from aerodrome.catalog.service import (
    COMPONENTS,
    component_service,
    componenttype_service,
    product_service,
    topic_service,
)

router = APIRouter(prefix=API_PREFIX, tags=["catalog"], route_class=Route)


@router.get("/topics/{topic_id}/components", name="list_topic_components", responses=ERRORS)
async def list_topic_components(
    request: Request, session: DbSession, identity: Reader, topic_id: str
) -> Response:
    """The components of a topic: public ones and those of the caller's teams."""
    query = parse_list_query(request.query_params, COMPONENTS)
    page = await topic_service.list_components(session, identity, topic_id, query)
    return list_response("components", page.rows, page.count)


@router.get("/products/{product_id}/teams", name="list_product_teams", responses=ERRORS)
async def list_product_teams(session: DbSession, identity: Reader, product_id: str) -> Response:
    """The teams that may use the product's topics."""
    found = await product_service.list_teams(session, identity, product_id)
    return list_response("teams", found, len(found))


@router.post(
    "/products/{product_id}/teams", name="add_product_team", status_code=201, responses=ERRORS
)
async def add_product_team(
    session: DbSession, identity: Caller, product_id: str, body: schemas.ProductTeamAdd
) -> Response:
    """Give a team the use of the product's topics (super admins and product owners)."""
    row = await product_service.add_team(session, identity, product_id, body.team_id)
    return JSONResponse({"product_team": row}, status_code=201)


@router.delete(
    "/products/{product_id}/teams/{team_id}",
    name="remove_product_team",
    status_code=204,
    responses=ERRORS,
)
async def remove_product_team(
    session: DbSession, identity: Caller, product_id: str, team_id: uuid.UUID
) -> Response:
    await product_service.remove_team(session, identity, product_id, team_id)
    return Response(status_code=204)


register_crud(
    router,
    product_service,
    create_schema=schemas.ProductCreate,
    update_schema=schemas.ProductUpdate,
)
register_crud(
    router,
    topic_service,
    create_schema=schemas.TopicCreate,
    update_schema=schemas.TopicUpdate,
)
register_crud(
    router,
    componenttype_service,
    create_schema=schemas.ComponentTypeCreate,
    update_schema=schemas.ComponentTypeUpdate,
)
register_crud(
    router,
    component_service,
    create_schema=schemas.ComponentCreate,
    update_schema=schemas.ComponentUpdate,
)
