"""Prometheus metrics: request counts and latency per route template, on `GET /metrics`."""

from __future__ import annotations

import os
import time

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# The API's target p99 is ~10 ms: resolve that region finely.
BUCKETS = (0.001, 0.0025, 0.005, 0.0075, 0.01, 0.015, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5)


class Metrics:
    """The metrics of one application, in a registry of its own."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "aerodrome_http_requests_total",
            "HTTP requests by route template and status.",
            ("method", "route", "status"),
            registry=self.registry,
        )
        self.latency = Histogram(
            "aerodrome_http_request_duration_seconds",
            "HTTP request latency by route template.",
            ("method", "route"),
            buckets=BUCKETS,
            registry=self.registry,
        )

        self.pool = Gauge(
            "aerodrome_db_pool_connections",
            "Database connections of this process's pool, by state.",
            ("state",),
            registry=self.registry,
        )

    def record_pool(self, statistics: dict[str, object]) -> None:
        """Set the pool gauges from `Database.pool_statistics()` (done at scrape time)."""
        for state in ("checkedin", "checkedout", "overflow"):
            value = statistics.get(state)
            if isinstance(value, int):
                self.pool.labels(state).set(value)

    def exposition(self) -> Response:
        """The text format; with PROMETHEUS_MULTIPROC_DIR set, merged over all workers."""
        registry = self.registry
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)


class MetricsMiddleware:
    """Counts and times every HTTP request, labelled by the route *template* that matched
    (`unmatched` otherwise, so that random URLs cannot inflate the label set)."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def recording_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, recording_send)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            method = scope["method"]
            self.metrics.requests.labels(method, template, str(status)).inc()
            self.metrics.latency.labels(method, template).observe(time.perf_counter() - started)
