"""Prometheus metrics: request counts and latency per route template, on `GET /metrics`.

Each `Metrics` object keeps its series in a `CollectorRegistry` of its own, so that several
applications (tests, embedded servers) in one process never collide on the global registry.

Several worker processes (`uvicorn --workers N`): set `PROMETHEUS_MULTIPROC_DIR` to an empty,
writable directory in the environment of the server *before it starts* (prometheus_client
decides at import time whether values live in memory or in files there) and empty it on every
restart. Every worker then writes its samples to that directory and `metrics_response` merges
all of them with a `MultiProcessCollector`, whichever worker answers the scrape. In that mode
the per-object registries are no longer isolated: objects of one process share the files.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from typing import Literal

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

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
# The API's target p99 is ~10 ms: resolve that region finely, keep a few buckets for outliers.
BUCKETS = (0.001, 0.0025, 0.005, 0.0075, 0.01, 0.015, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5)
UNMATCHED = "unmatched"
# Any token is a valid HTTP method: label the unknown ones alike, or they would inflate the
# label set just like random URLs would.
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
OTHER_METHOD = "other"

GaugeMode = Literal[
    "all",
    "liveall",
    "min",
    "livemin",
    "max",
    "livemax",
    "sum",
    "livesum",
    "mostrecent",
    "livemostrecent",
]


class Metrics:
    """The metrics of one application, in a registry of its own."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "aerodrome_http_requests_total",
            "HTTP requests by method, route template and status.",
            ("method", "route", "status"),
            registry=self.registry,
        )
        self.latency = Histogram(
            "aerodrome_http_request_duration_seconds",
            "HTTP request latency by method and route template.",
            ("method", "route"),
            buckets=BUCKETS,
            registry=self.registry,
        )
        self.pool = self.gauge(
            "aerodrome_db_pool_connections",
            "Database connections of this process's pool, by state.",
            ("state",),
        )
        # Labelled children by (method, route, status): `labels()` costs more than the
        # increment itself. The label set is bounded, so this dictionary is too.
        self._children: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}

    def gauge(
        self,
        name: str,
        documentation: str,
        labelnames: Sequence[str] = (),
        *,
        multiprocess_mode: GaugeMode = "liveall",
    ) -> Gauge:
        """A new gauge in this registry. With several workers, `multiprocess_mode` says how
        their values combine; the default keeps one series per live worker (label `pid`)."""
        return Gauge(
            name,
            documentation,
            labelnames,
            registry=self.registry,
            multiprocess_mode=multiprocess_mode,
        )

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        """Count one request and record its duration."""
        key = (method, route, status)
        children = self._children.get(key)
        if children is None:
            children = (
                self.requests.labels(method, route, str(status)),
                self.latency.labels(method, route),
            )
            self._children[key] = children
        children[0].inc()
        children[1].observe(seconds)

    def record_pool(self, statistics: dict[str, object]) -> None:
        """Set the pool gauges from `Database.pool_statistics()` (done at scrape time)."""
        for state in ("checkedin", "checkedout", "overflow"):
            value = statistics.get(state)
            if isinstance(value, int):
                self.pool.labels(state).set(value)

    @staticmethod
    def mark_process_dead(pid: int | None = None) -> None:
        """With several workers, drop the live gauges of a process that ends (by default this
        one): call it when the application shuts down. A no-op with a single process."""
        if os.environ.get(MULTIPROC_ENV):
            process = os.getpid() if pid is None else pid
            multiprocess.mark_process_dead(process)  # type: ignore[no-untyped-call]


def metrics_response(metrics: Metrics) -> Response:
    """The Prometheus text exposition of `metrics`; with `PROMETHEUS_MULTIPROC_DIR` set, that
    of every worker process, read from the files in that directory."""
    registry = metrics.registry
    if os.environ.get(MULTIPROC_ENV):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)


class MetricsMiddleware:
    """Pure ASGI middleware counting and timing every HTTP request, labelled by method, the
    route *template* that matched (`unmatched` otherwise, so that random URLs cannot inflate
    the label set) and status. A request whose handler raises counts as a 500, and the
    exception goes on. Other scopes (lifespan, websocket) pass through untouched."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what the client gets when the application fails before answering

        async def recording_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, recording_send)
        except Exception:
            status = 500  # even when the response had started: it is broken
            raise
        finally:
            self.metrics.observe(
                _method_label(scope["method"]),
                route_template(scope),
                status,
                time.perf_counter() - started,
            )


def route_template(scope: Scope) -> str:
    """The path template of the route the router chose for this request, or `unmatched`.

    Valid once the inner application ran. Starlette sets `scope["route"]`; with FastAPI's
    `include_router(prefix=...)` the template lacks that prefix, and inside a mounted
    application it lacks the mount path."""
    path = getattr(scope.get("route"), "path", None)
    return path if isinstance(path, str) and path else UNMATCHED


def _method_label(method: str) -> str:
    return method if method in KNOWN_METHODS else OTHER_METHOD
