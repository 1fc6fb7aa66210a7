"""`/metrics` and the structured access log, through real requests."""

from __future__ import annotations

import json
import logging

import httpx
import pytest

from tests.conftest import ADMIN


def _sample(text: str, prefix: str) -> float:
    lines = [line for line in text.splitlines() if line.startswith(prefix)]
    assert len(lines) == 1, (prefix, lines)
    return float(lines[0].rsplit(" ", 1)[1])


async def test_metrics_count_by_route_template(client: httpx.AsyncClient) -> None:
    before = (await client.get("/metrics")).text
    route = 'route="/api/v1/componenttypes/{componenttype_id}"'
    key = f'aerodrome_http_requests_total{{method="GET",{route},status="404"}}'
    old = _sample(before, key) if key in before else 0.0
    for name in ("a", "b", "c"):
        await client.get(f"/api/v1/componenttypes/{name}", headers=ADMIN)
    await client.get("/no/such/page")
    after = (await client.get("/metrics")).text
    assert _sample(after, key) == old + 3
    assert 'route="unmatched",status="404"' in after
    assert (
        f'aerodrome_http_request_duration_seconds_bucket{{le="0.01",method="GET",{route}}}' in after
    )


async def test_access_log_is_json_without_secrets(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="aerodrome.access"):
        response = await client.get(
            "/api/v1/componenttypes?where=name:secret-value",
            headers={**ADMIN, "X-Request-ID": "req-42", "User-Agent": "tests"},
        )
    assert response.headers["x-request-id"] == "req-42"
    records = [r for r in caplog.records if r.name == "aerodrome.access"]
    fields = records[-1].fields  # type: ignore[attr-defined]
    assert fields["method"] == "GET"
    assert fields["path"] == "/api/v1/componenttypes"
    assert fields["route"] == "/api/v1/componenttypes"
    assert fields["status"] == 200
    assert fields["request_id"] == "req-42"
    assert fields["user_agent"] == "tests"
    assert fields["duration_ms"] >= 0
    from aerodrome.ops.access_log import JsonLogFormatter

    line = JsonLogFormatter().format(records[-1])
    assert json.loads(line)["status"] == 200
    assert "secret-value" not in line
    assert ADMIN["Authorization"].split()[1] not in line


async def test_insane_request_id_is_replaced(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz", headers={"X-Request-ID": "bad id!" * 10})
    assert len(response.headers["x-request-id"]) == 32
