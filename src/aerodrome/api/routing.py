"""Route matching that stays cheap with two hundred and thirty routes.

The router tries its routes in order, and each try costs a few microseconds of scope
bookkeeping and a regular expression. Profiled under load, matching took a fifth of a
worker's CPU on a components list and over a third on a paddles job write, whose routes
come last. So the application's router holds a short list of route groups instead: each
group is a run of consecutive routes whose paths share their first segments, tried only
when the request path starts with what all of them start with. Only consecutive routes
are grouped, so the first route that matches is the same one as in the flat list.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterable, Sequence
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute
from starlette._utils import get_route_path
from starlette.datastructures import URLPath
from starlette.routing import BaseRoute, Match, NoMatchFound
from starlette.types import Receive, Scope, Send

# Where a group leaves the route it chose, for its `handle`.
CHOSEN_ROUTE = "aerodrome.route"
# Segments of the path (after the leading slash) that nested groups are keyed on.
GROUP_DEPTH = 3


class Route(APIRoute):
    """An API route that rejects a path not starting with its literal prefix at once."""

    def __init__(self, path: str, *args: Any, **kwargs: Any) -> None:
        super().__init__(path, *args, **kwargs)
        self.literal_prefix = literal_prefix(self.path)

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] == "http" and not get_route_path(scope).startswith(self.literal_prefix):
            return Match.NONE, {}
        return super().matches(scope)


class RouteGroup(BaseRoute):
    """Consecutive routes under one path prefix, matched as the flat list would be."""

    def __init__(self, routes: Sequence[BaseRoute]) -> None:
        self.routes = list(routes)
        # Character by character on purpose: a prefix may end inside a segment.
        self.prefix = os.path.commonprefix(  # noqa: RUF071
            [literal_prefix(path_of(r)) for r in self.routes]
        )

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] == "http" and not get_route_path(scope).startswith(self.prefix):
            return Match.NONE, {}
        partial: Scope | None = None
        for route in self.routes:
            match, child_scope = route.matches(scope)
            if match is Match.NONE:
                continue
            child_scope.setdefault(CHOSEN_ROUTE, route)
            if match is Match.FULL:
                return match, child_scope
            if partial is None:
                partial = child_scope
        return (Match.PARTIAL, partial) if partial is not None else (Match.NONE, {})

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        route: BaseRoute = scope.pop(CHOSEN_ROUTE)
        await route.handle(scope, receive, send)

    def url_path_for(self, name: str, /, **path_params: Any) -> URLPath:
        for route in self.routes:
            try:
                return route.url_path_for(name, **path_params)
            except NoMatchFound:
                continue
        raise NoMatchFound(name, path_params)


def literal_prefix(path: str) -> str:
    # Everything before the first parameter is literal in the compiled pattern too.
    return path.split("{", 1)[0]


def path_of(route: BaseRoute) -> str:
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else ""


def grouped(routes: Sequence[BaseRoute], depth: int = 1) -> list[BaseRoute]:
    """`routes` with each run of consecutive routes sharing `depth` path segments grouped,
    and each group grouped again one segment deeper."""

    def key(route: BaseRoute) -> str:
        return "/".join(literal_prefix(path_of(route)).split("/")[: depth + 1])

    result: list[BaseRoute] = []
    for _, run in itertools.groupby(routes, key):
        members = list(run)
        if len(members) == 1:
            result.extend(members)
        elif depth >= GROUP_DEPTH:
            result.append(RouteGroup(members))
        else:
            result.append(RouteGroup(grouped(members, depth + 1)))
    return result


def add_routers(app: FastAPI, routers: Iterable[APIRouter]) -> None:
    """Serve the routes of `routers`, in order, after the application's own (its docs).

    The routers are only groups of routes: their prefix, tags, responses and route class
    are already part of each route, so nothing is lost by not including them. The OpenAPI
    document is built from the flat list, which the groups hide from FastAPI."""
    flat = [*app.router.routes, *(route for router in routers for route in router.routes)]
    app.router.routes = grouped(flat)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = get_openapi(
                title=app.title,
                version=app.version,
                openapi_version=app.openapi_version,
                description=app.description,
                routes=flat,
                servers=app.servers,
            )
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
