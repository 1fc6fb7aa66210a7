"""Grouped routing answers every path exactly as FastAPI's flat route list would."""

from __future__ import annotations

import httpx
import pytest
from fastapi import APIRouter, FastAPI, Request

from aerodrome.api.routing import Route, RouteGroup, add_routers
from tests.conftest import ADMIN

# Overlapping on purpose: a catch-all between specific routes, a literal next to a parameter,
# prefixes that end inside a segment (`/a/b` and `/a/bc`), one path with two methods.
PATHS = [
    ("GET", "/a/b"),
    ("GET", "/a/bc"),
    ("GET", "/a/b/{x}"),
    ("GET", "/a/{anything:path}"),
    ("GET", "/a/b/{x}/c"),
    ("POST", "/a/b/{x}/c"),
    ("GET", "/z/{x}"),
    ("PUT", "/z/{x}"),
    ("GET", "/z/{x}/y"),
]
REQUESTS = [
    ("GET", "/a/b"),
    ("GET", "/a/bc"),
    ("GET", "/a/bcd"),
    ("GET", "/a/b/1"),
    ("GET", "/a/b/1/c"),
    ("POST", "/a/b/1/c"),
    ("DELETE", "/a/b/1/c"),
    ("GET", "/z/1"),
    ("PUT", "/z/1"),
    ("POST", "/z/1"),
    ("GET", "/z/1/y"),
    ("GET", "/nowhere"),
    ("GET", "/a/b/"),
]


def _router(route_class: type[Route] | None) -> APIRouter:
    router = APIRouter(route_class=route_class) if route_class else APIRouter()
    for number, (method, path) in enumerate(PATHS):

        async def endpoint(request: Request, number: int = number) -> dict[str, object]:
            return {"route": number, "params": request.path_params}

        router.add_api_route(path, endpoint, methods=[method], name=f"route-{number}")
    return router


def _grouped_app() -> FastAPI:
    app = FastAPI()
    add_routers(app, [_router(Route)])
    return app


def _flat_app() -> FastAPI:
    app = FastAPI()
    app.include_router(_router(None))
    return app


async def _answers(app: FastAPI) -> list[tuple[int, str]]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        return [
            ((r := await http.request(method, path)).status_code, r.text)
            for method, path in REQUESTS
        ]


async def test_grouped_routes_answer_like_the_flat_list() -> None:
    grouped = _grouped_app()
    assert any(isinstance(route, RouteGroup) for route in grouped.router.routes)
    assert await _answers(grouped) == await _answers(_flat_app())


def test_grouped_routes_build_urls_and_document_every_route() -> None:
    grouped, flat = _grouped_app(), _flat_app()
    assert grouped.url_path_for("route-4", x="7") == "/a/b/7/c"
    assert grouped.openapi()["paths"] == flat.openapi()["paths"]


@pytest.mark.parametrize(("path", "prefix"), [("/a/b/{x}/c", "/a/b/"), ("/a/bc", "/a/bc")])
def test_a_route_knows_its_literal_prefix(path: str, prefix: str) -> None:
    async def endpoint() -> None:
        return None

    assert Route(path, endpoint).literal_prefix == prefix


async def test_repeated_slashes_count_as_one(client: httpx.AsyncClient) -> None:
    """A base URL with a trailing slash plus an absolute path (teuthology's `//runs/…`)."""
    expected = await client.get("/api/v1/identity", headers=ADMIN)
    assert expected.status_code == 200
    for url in ("http://testserver//api/v1/identity", "http://testserver/api//v1///identity"):
        merged = await client.get(url, headers=ADMIN)
        assert (merged.status_code, merged.json()) == (200, expected.json()), url
    missing = await client.get("http://testserver//paddles//runs/no-such-run/", headers=ADMIN)
    assert (missing.status_code, missing.json()) == (404, {"message": "run no-such-run not found"})
