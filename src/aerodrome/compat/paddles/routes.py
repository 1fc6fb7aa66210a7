"""The paddles façade, mounted at `/paddles/` and (for teuthology's bare `results_server` and
`lock_server` URLs) at `/runs/`, `/nodes/` and `/queue/` on the root.

Its routes are left out of the OpenAPI document: they speak paddles' formats, not the house's.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from aerodrome.api.responses import JSONResponse
from aerodrome.compat.paddles import nodes, queues, runs
from aerodrome.compat.paddles.common import PaddlesRoute
from aerodrome.errors import NotFound

PREFIX = "/paddles"


async def paddles_index(request: Request) -> Response:
    """GET /paddles/: where the collections are."""
    base = str(request.base_url).rstrip("/") + PREFIX
    return JSONResponse({name: f"{base}/{name}/" for name in ("runs", "jobs", "nodes", "queue")})


async def not_found(path: str) -> Response:
    raise NotFound(f"no such paddles resource: /{path}")


def _router(prefix: str, *, with_jobs_search: bool) -> APIRouter:
    router = APIRouter(
        prefix=prefix, route_class=PaddlesRoute, include_in_schema=False, tags=["paddles"]
    )
    runs.add_routes(router, runs.RunsFacade(prefix), with_jobs_search=with_jobs_search)
    nodes.add_routes(router)
    queues.add_routes(router)
    return router


router = _router(PREFIX, with_jobs_search=True)
for _path in ("", "/"):
    router.add_api_route(_path, paddles_index, methods=["GET"])
router.add_api_route(
    "/{path:path}", not_found, methods=["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH"]
)
# teuthology's results_server/lock_server often name the server's root.
root_router = _router("", with_jobs_search=False)
