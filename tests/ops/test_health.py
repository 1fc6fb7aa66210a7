"""`/healthz` and the OpenAPI document."""

from __future__ import annotations

import gc
import uuid

import httpx
from fastapi import FastAPI
from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import create_async_engine

from aerodrome.app import create_app
from aerodrome.settings import Settings
from tests.conftest import POSTGRES_ADMIN_URL, Backend


async def test_healthz_reports_database_and_pool(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"]["latency_ms"] >= 0
    assert body["database"]["dialect"] in {"sqlite", "postgresql"}
    assert "checkedout" in body["database"]["pool"]


async def test_healthz_is_503_when_the_database_is_down() -> None:
    settings = Settings(database_url="postgresql+asyncpg://nobody@127.0.0.1:1/none")
    app = create_app(settings, check_schema=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        response = await http.get("/healthz")
    assert response.status_code == 503
    assert response.json()["status"] == "unavailable"
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        listed = await http.get("/api/v1/componenttypes", auth=("admin", "x"))
    assert listed.status_code == 503
    assert listed.headers["retry-after"] == "1"
    assert listed.json() == {
        "status_code": 503,
        "message": "service unavailable: the database did not answer; retry",
        "payload": {},
    }
    await app.state.database.dispose()


async def test_openapi_documents_resources(client: httpx.AsyncClient, app: FastAPI) -> None:
    spec = (await client.get("/api/openapi.json")).json()
    component = spec["paths"]["/api/v1/components/{component_id}"]
    assert set(component) == {"get", "put", "delete"}
    for operation in component.values():
        parameter = next(p for p in operation["parameters"] if p["in"] == "path")
        assert (parameter["name"], parameter["required"]) == ("component_id", True)
    body_ref = component["put"]["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    assert body_ref.endswith("/ComponentUpdate")
    listed = spec["paths"]["/api/v1/components"]["get"]["responses"]["200"]["content"]
    assert "type" not in listed["application/json"]["schema"]  # only the $ref: JSON, not text
    schema_name = listed["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    assert set(spec["components"]["schemas"][schema_name]["properties"]) == {"components", "_meta"}
    docs = await client.get("/api/docs")
    assert "cdn" not in docs.text.lower()
    script = await client.get("/api/docs/static/swagger-ui-bundle.js")
    assert script.status_code == 200
    assert len(script.content) > 100_000
    assert docs.status_code == 200
    assert "swagger" in docs.text.lower()


async def test_start_up_freezes_what_the_imports_built(backend: Backend) -> None:
    """The collector's full passes must not walk the start-up objects (see app.py)."""
    app = create_app(backend.settings)
    thresholds = gc.get_threshold()
    gc.unfreeze()
    try:
        async with app.router.lifespan_context(app):
            assert gc.get_freeze_count() > 10_000
            assert gc.get_threshold()[0] > thresholds[0]
    finally:
        gc.unfreeze()
        gc.set_threshold(*thresholds)


async def test_a_database_refusing_connections_for_now_is_503() -> None:
    """PostgreSQL's "too many connections" asks for a retry, not a 500 with a traceback.

    (A PostgreSQL server setting: there is no SQLite variant.)"""
    role = f"limited_{uuid.uuid4().hex[:8]}"
    admin = create_async_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    async with admin.connect() as connection:
        await connection.execute(text(f"CREATE ROLE {role} LOGIN CONNECTION LIMIT 0"))
    url = make_url(POSTGRES_ADMIN_URL).set(username=role).render_as_string(hide_password=False)
    app = create_app(Settings(database_url=url), check_schema=False)
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            listed = await http.get("/api/v1/componenttypes", auth=("admin", "x"))
        assert listed.status_code == 503, listed.text
        assert listed.headers["retry-after"] == "1"
    finally:
        await app.state.database.dispose()
        async with admin.connect() as connection:
            await connection.execute(text(f"DROP ROLE {role}"))
        await admin.dispose()
