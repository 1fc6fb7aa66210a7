"""`MetricsMiddleware`, `Metrics` and `metrics_response` on a small application of their own."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from fastapi import APIRouter, FastAPI
from prometheus_client import CONTENT_TYPE_LATEST
from starlette.responses import Response
from starlette.types import Message, Receive, Scope, Send

from aerodrome.ops.metrics import Metrics, MetricsMiddleware, metrics_response

REQUESTS = "aerodrome_http_requests_total"
DURATION = "aerodrome_http_request_duration_seconds"


def build_app(metrics: Metrics) -> FastAPI:
    """Routes with a path parameter, in a prefixed router, failing, and `/metrics`."""
    app = FastAPI()
    router = APIRouter(prefix="/api/v1")

    @router.get("/components/{component_id}")
    async def component(component_id: int) -> dict[str, int]:
        return {"id": component_id}

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("handler failure")

    @app.get("/metrics")
    async def metrics_endpoint() -> Response:
        return metrics_response(metrics)

    app.include_router(router)
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    return app


def client(app: FastAPI, *, raise_app_exceptions: bool = True) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=raise_app_exceptions)
    return httpx.AsyncClient(transport=transport, base_url="http://test")


def requests(metrics: Metrics, method: str, route: str, status: int) -> float | None:
    labels = {"method": method, "route": route, "status": str(status)}
    return metrics.registry.get_sample_value(REQUESTS, labels)


def timed(metrics: Metrics, method: str, route: str) -> float | None:
    labels = {"method": method, "route": route}
    return metrics.registry.get_sample_value(f"{DURATION}_count", labels)


def exposition(metrics: Metrics) -> str:
    return bytes(metrics_response(metrics).body).decode()


@pytest.fixture
def metrics() -> Metrics:
    return Metrics()


async def test_requests_are_counted_and_timed_by_route_template(metrics: Metrics) -> None:
    async with client(build_app(metrics)) as http:
        for component_id in (1, 2, 3):
            assert (await http.get(f"/api/v1/components/{component_id}")).status_code == 200
        assert (await http.get("/api/v1/components/not-a-number")).status_code == 422
    template = "/api/v1/components/{component_id}"
    assert requests(metrics, "GET", template, 200) == 3
    assert requests(metrics, "GET", template, 422) == 1
    assert timed(metrics, "GET", template) == 4
    # The concrete paths never become labels.
    assert requests(metrics, "GET", "/api/v1/components/1", 200) is None


async def test_unmatched_paths_share_one_label(metrics: Metrics) -> None:
    async with client(build_app(metrics)) as http:
        for path in ("/no/such/page", "/wp-admin.php", "/api/v1/components"):
            assert (await http.get(path)).status_code == 404
    assert requests(metrics, "GET", "unmatched", 404) == 3
    assert timed(metrics, "GET", "unmatched") == 3
    assert "wp-admin" not in exposition(metrics)


async def test_unknown_methods_share_one_label(metrics: Metrics) -> None:
    async with client(build_app(metrics)) as http:
        response = await http.request("BREW", "/api/v1/components/1")
    assert response.status_code == 405
    assert requests(metrics, "other", "/api/v1/components/{component_id}", 405) == 1


async def test_a_failing_handler_counts_as_500_and_the_exception_goes_on(
    metrics: Metrics,
) -> None:
    async with client(build_app(metrics)) as http:
        with pytest.raises(RuntimeError, match="handler failure"):
            await http.get("/boom")
    assert requests(metrics, "GET", "/boom", 500) == 1
    assert timed(metrics, "GET", "/boom") == 1


async def test_a_failing_handler_still_gets_its_500_response(metrics: Metrics) -> None:
    async with client(build_app(metrics), raise_app_exceptions=False) as http:
        assert (await http.get("/boom")).status_code == 500
    assert requests(metrics, "GET", "/boom", 500) == 1


async def test_a_failure_after_the_response_started_counts_as_500(metrics: Metrics) -> None:
    async def breaks_midway(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        raise ConnectionError("body lost")

    sent: list[Message] = []

    async def collect(message: Message) -> None:
        sent.append(message)

    middleware = MetricsMiddleware(breaks_midway, metrics)
    scope: Scope = {"type": "http", "method": "GET", "path": "/x", "headers": []}
    with pytest.raises(ConnectionError):
        await middleware(scope, _no_receive, collect)
    assert sent[0]["status"] == 200
    assert requests(metrics, "GET", "unmatched", 500) == 1


@pytest.mark.parametrize("kind", ["lifespan", "websocket"])
async def test_other_scopes_pass_through_untouched(metrics: Metrics, kind: str) -> None:
    seen: list[tuple[Scope, Receive, Send]] = []

    async def inner(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append((scope, receive, send))

    async def send(message: Message) -> None:
        raise AssertionError("nothing to send")

    scope: Scope = {"type": kind}
    await MetricsMiddleware(inner, metrics)(scope, _no_receive, send)
    assert seen == [(scope, _no_receive, send)]
    assert f"{REQUESTS}{{" not in exposition(metrics)


async def test_exposition_is_prometheus_text(metrics: Metrics) -> None:
    async with client(build_app(metrics)) as http:
        await http.get("/api/v1/components/7")
        response = await http.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"] == CONTENT_TYPE_LATEST
    text = response.text
    assert f"# TYPE {REQUESTS} counter" in text
    assert f"# TYPE {DURATION} histogram" in text
    route = 'route="/api/v1/components/{component_id}"'
    assert f'{REQUESTS}{{method="GET",{route},status="200"}} 1.0' in text
    # The buckets resolve the ~10 ms target finely.
    for bound in ("0.001", "0.005", "0.01", "0.025", "5.0", "+Inf"):
        assert f'{DURATION}_bucket{{le="{bound}",method="GET",{route}}}' in text


def test_applications_have_registries_of_their_own() -> None:
    first, second = Metrics(), Metrics()
    first.observe("GET", "/a", 200, 0.002)
    assert requests(first, "GET", "/a", 200) == 1
    assert requests(second, "GET", "/a", 200) is None


def test_extra_gauges_are_exposed(metrics: Metrics) -> None:
    queued = metrics.gauge("aerodrome_jobs_queued", "Jobs waiting for an agent.", ("queue",))
    queued.labels("default").set(4)
    metrics.record_pool({"checkedin": 3, "checkedout": 2, "overflow": 0, "size": "n/a"})
    text = exposition(metrics)
    assert 'aerodrome_jobs_queued{queue="default"} 4.0' in text
    assert 'aerodrome_db_pool_connections{state="checkedout"} 2.0' in text
    assert "size" not in text


def test_multiprocess_exposition_reads_the_shared_directory(
    metrics: Metrics, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    metrics.observe("GET", "/a", 200, 0.002)
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    response = metrics_response(metrics)
    assert response.media_type == CONTENT_TYPE_LATEST
    # This process keeps its values in memory (the variable was not set when
    # prometheus_client was imported), so the empty directory holds nothing at all.
    assert REQUESTS.encode() not in bytes(response.body)
    Metrics.mark_process_dead()  # nothing to remove, and no failure


async def _no_receive() -> Message:
    raise AssertionError("the body is never read")
