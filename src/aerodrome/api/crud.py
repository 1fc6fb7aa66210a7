"""The REST routes of a resource, written once: list, show, create, update, delete, purge.

Handlers are thin (parse → service → respond). Request bodies are validated by the resource's
pydantic schemas; responses are documented with models derived from the table, and rendered
straight from the rows with orjson.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Body, Path, Request
from pydantic import BaseModel, ConfigDict, Field, create_model
from sqlalchemy import Column
from starlette.responses import Response

from aerodrome.api.deps import Caller, DbSession, IfMatch, Reader
from aerodrome.api.listing import check_parameters, parse_embed, parse_list_query
from aerodrome.api.response_cache import keepable
from aerodrome.api.responses import item_response, list_response
from aerodrome.crud import ResourceService
from aerodrome.db.resources import Resource


class Meta(BaseModel):
    count: int


class ErrorBody(BaseModel):
    status_code: int
    message: str
    payload: dict[str, Any]


ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody, "description": text}
    for code, text in {
        400: "Invalid input",
        401: "Authentication required",
        403: "Not allowed",
        404: "Not found",
        409: "Conflict",
        412: "Missing or stale If-Match",
    }.items()
}


def register_crud(
    router: APIRouter,
    service: ResourceService,
    *,
    create_schema: type[BaseModel],
    update_schema: type[BaseModel],
) -> None:
    """Add the seven standard routes of `service.resource` to `router`."""
    resource = service.resource
    item_model = read_model(resource)
    _add_purge_routes(router, service)
    _add_collection_routes(router, service, create_schema, item_model)
    _add_item_routes(router, service, update_schema, item_model)


def _add_collection_routes(
    router: APIRouter,
    service: ResourceService,
    create_schema: type[BaseModel],
    item_model: type[BaseModel],
) -> None:
    resource = service.resource
    plural, singular = resource.plural, resource.singular

    @keepable
    async def list_items(request: Request, session: DbSession, identity: Reader) -> Response:
        query = parse_list_query(request.query_params, resource)
        page = await service.list(session, identity, query)
        return list_response(plural, page.rows, page.count)

    async def create_item(session: DbSession, identity: Caller, body: Any) -> Response:
        row = await service.create(session, identity, body)
        return item_response(singular, row, status_code=201)

    router.add_api_route(
        f"/{plural}",
        list_items,
        methods=["GET"],
        name=f"list_{plural}",
        summary=f"List {plural}",
        responses={200: {"model": list_model(resource, item_model)}, **ERRORS},
    )
    router.add_api_route(
        f"/{plural}",
        with_parameters(create_item, body=create_schema),
        methods=["POST"],
        status_code=201,
        name=f"create_{singular}",
        summary=f"Create a {singular}",
        responses={201: {"model": envelope(singular, item_model)}, **ERRORS},
    )


def _add_item_routes(
    router: APIRouter,
    service: ResourceService,
    update_schema: type[BaseModel],
    item_model: type[BaseModel],
) -> None:
    resource = service.resource
    singular = resource.singular
    path = f"/{resource.plural}/{{{singular}_id}}"
    one = {200: {"model": envelope(singular, item_model)}, **ERRORS}

    @keepable
    async def get_item(
        request: Request, session: DbSession, identity: Reader, key: str
    ) -> Response:
        check_parameters(request.query_params, {"embed"})
        embeds = parse_embed(request.query_params.get("embed", ""), resource)
        row = await service.get(session, identity, key, embeds=embeds)
        return item_response(singular, row)

    async def update_item(
        session: DbSession, identity: Caller, if_match: IfMatch, key: str, body: Any
    ) -> Response:
        row = await service.update(session, identity, key, if_match=if_match, data=body)
        return item_response(singular, row)

    async def delete_item(
        session: DbSession, identity: Caller, if_match: IfMatch, key: str
    ) -> Response:
        await service.delete(session, identity, key, if_match=if_match)
        return Response(status_code=204)

    key = f"{singular}_id"
    router.add_api_route(
        path,
        with_parameters(get_item, key=key),
        methods=["GET"],
        name=f"get_{singular}",
        summary=f"Show a {singular}",
        responses=one,
    )
    router.add_api_route(
        path,
        with_parameters(update_item, key=key, body=update_schema),
        methods=["PUT"],
        name=f"update_{singular}",
        summary=f"Update a {singular} (needs If-Match)",
        responses=one,
    )
    router.add_api_route(
        path,
        with_parameters(delete_item, key=key),
        methods=["DELETE"],
        status_code=204,
        name=f"delete_{singular}",
        summary=f"Archive a {singular} (needs If-Match)",
        responses=ERRORS,
    )


def _add_purge_routes(router: APIRouter, service: ResourceService) -> None:
    plural = service.resource.plural

    async def list_archived(session: DbSession, identity: Caller) -> Response:
        rows = await service.list_archived(session, identity)
        return list_response(plural, rows, len(rows))

    async def purge(session: DbSession, identity: Caller) -> Response:
        await service.purge(session, identity)
        return Response(status_code=204)

    router.add_api_route(
        f"/{plural}/purge",
        list_archived,
        methods=["GET"],
        name=f"list_archived_{plural}",
        summary=f"List archived {plural} (super admin)",
        responses=ERRORS,
    )
    router.add_api_route(
        f"/{plural}/purge",
        purge,
        methods=["POST"],
        status_code=204,
        name=f"purge_{plural}",
        summary=f"Remove archived {plural} for good (super admin)",
        responses=ERRORS,
    )


def with_parameters(
    handler: Callable[..., Any], *, key: str | None = None, body: type[BaseModel] | None = None
) -> Callable[..., Any]:
    """Declare, for FastAPI and the OpenAPI document, the resource-specific parameters of a
    shared handler: `key` is the path parameter named `key`, `body` the request schema."""
    declared = {
        "key": (str, Path(alias=key, description="id, or name where names are unique")),
        "body": (body, Body()),
    }
    signature = inspect.signature(handler)
    parameters = [
        p.replace(annotation=declared[p.name][0], default=declared[p.name][1])
        if p.name in declared and (key if p.name == "key" else body) is not None
        else p
        for p in signature.parameters.values()
    ]
    handler.__signature__ = signature.replace(parameters=parameters)  # type: ignore[attr-defined]
    return handler


def read_model(resource: Resource) -> type[BaseModel]:
    """The documented shape of a row, derived from the table's public columns."""
    fields: dict[str, Any] = {}
    for column in resource.table.c:
        if column.name not in resource.hidden:
            fields[column.name] = (_column_type(column), ...)
    return create_model(
        resource.singular.capitalize(), __config__=ConfigDict(extra="allow"), **fields
    )


def _column_type(column: Column[Any]) -> Any:
    try:
        python_type: Any = column.type.python_type
    except NotImplementedError:
        python_type = Any
    if python_type is dict:
        python_type = dict[str, Any]
    return python_type | None if column.nullable else python_type


def envelope(singular: str, item_model: type[BaseModel]) -> type[BaseModel]:
    return create_model(f"{item_model.__name__}Envelope", **{singular: (item_model, ...)})  # type: ignore[call-overload, no-any-return]


def list_model(resource: Resource, item_model: type[BaseModel]) -> type[BaseModel]:
    return create_model(  # type: ignore[call-overload, no-any-return]
        f"{item_model.__name__}List",
        **{resource.plural: (list[item_model], ...)},  # type: ignore[valid-type]
        meta=(Meta, Field(alias="_meta")),
    )
