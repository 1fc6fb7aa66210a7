"""Operations endpoints: `GET /healthz` (database reachable? how fast? pool use) and
`GET /metrics` (Prometheus)."""

from __future__ import annotations

import time

from fastapi import APIRouter, Request
from starlette.responses import Response

from aerodrome import __version__
from aerodrome.api.responses import JSONResponse
from aerodrome.api.routing import Route
from aerodrome.db.session import Database
from aerodrome.ops.metrics import Metrics, metrics_response

router = APIRouter(tags=["operations"], route_class=Route)


@router.get("/healthz", name="health")
async def health(request: Request) -> Response:
    """200 when the database answers, 503 (with the reason) when it does not."""
    database: Database = request.app.state.database
    started = time.perf_counter()
    try:
        await database.ping()
    except Exception as exc:  # any failure to reach the database means unhealthy
        return JSONResponse(
            {
                "status": "unavailable",
                "version": __version__,
                "database": {"error": type(exc).__name__},
            },
            status_code=503,
        )
    latency_ms = round((time.perf_counter() - started) * 1000, 3)
    return JSONResponse(
        {
            "status": "ok",
            "version": __version__,
            "database": {
                "dialect": database.engine.dialect.name,
                "latency_ms": latency_ms,
                "pool": database.pool_statistics(),
            },
            # Whether this process hears of identity changes, and so may trust what it read.
            "identity_changes": (
                "listening" if request.app.state.known_identities.changes.listening else "off"
            ),
            "response_cache": request.app.state.response_cache.statistics(),
        }
    )


@router.get("/metrics", name="metrics", include_in_schema=False)
async def metrics(request: Request) -> Response:
    """Prometheus text exposition of the request counters and latency histograms."""
    collected: Metrics = request.app.state.metrics
    database: Database = request.app.state.database
    collected.record_pool(database.pool_statistics())
    return metrics_response(collected)
