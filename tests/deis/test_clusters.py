"""Deis cluster check-ins: the client's request shapes, derived history, age filters, limits."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.conftest import ADMIN
from tests.deis.test_versions import publish


def _checkin(cluster_id: str, **versions: str) -> dict[str, Any]:
    return {
        "id": cluster_id,
        "firstSeen": "0001-01-01T00:00:00Z",
        "lastSeen": "0001-01-01T00:00:00Z",
        "components": [
            {
                "component": {"name": name, "description": f"Deis {name}"},
                "version": {"train": "stable", "version": version},
            }
            for name, version in versions.items()
        ],
    }


async def test_checkin_then_get_cluster_with_updates(client: httpx.AsyncClient) -> None:
    await publish(client, "router", "stable", "v2.4.0", "2026-01-01T00:00:00Z")
    await publish(client, "builder", "stable", "v1.0.0", "2026-01-01T00:00:00Z")
    first = await client.post("/deis/v3/clusters", json=_checkin("c-1", router="v2.3.0"))
    assert first.status_code == 200, first.text
    second = await client.post(
        "/deis/v3/clusters", json=_checkin("c-1", router="v2.3.0", builder="v1.0.0")
    )
    assert second.status_code == 200
    shown = (await client.get("/deis/v3/clusters/c-1", headers=ADMIN)).json()
    assert shown["id"] == "c-1"
    assert shown["firstSeen"] < shown["lastSeen"]
    assert shown["firstSeen"].endswith("+00:00")
    router, builder = shown["components"]
    assert router["component"] == {"name": "router", "description": "Deis router"}
    assert router["updateAvailable"] == "v2.4.0"
    assert "updateAvailable" not in builder
    native = (await client.get("/api/v1/clusters/c-1", headers=ADMIN)).json()["cluster"]
    assert native["checkins_count"] == 2
    assert native["updates_available"] == [
        {"name": "router", "train": "stable", "installed": "v2.3.0", "latest": "v2.4.0"}
    ]
    count = await client.get("/deis/v3/clusters/count", headers=ADMIN)
    assert count.json() == 1


async def test_v2_checkin_takes_the_id_from_the_url(client: httpx.AsyncClient) -> None:
    ok = await client.post("/deis/v2/clusters/c-2", json=_checkin("c-2", router="v1"))
    assert ok.status_code == 200
    assert ok.json()["id"] == "c-2"
    other = await client.post("/deis/v2/clusters/c-3", json=_checkin("c-2", router="v1"))
    assert other.status_code == 400
    assert other.json() == {"code": 400, "message": "body id 'c-2' differs from the URL's 'c-3'"}


async def test_missing_cluster_is_404(client: httpx.AsyncClient) -> None:
    response = await client.get("/deis/v3/clusters/nope", headers=ADMIN)
    assert response.status_code == 404
    assert response.json() == {"code": 404, "message": "cluster nope not found"}


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"components": []}, "id: Field required"),
        ({"id": "c", "extra": 1}, "extra: Extra inputs are not permitted"),
        ({"id": "../x"}, "id: String should match pattern"),
        ({"id": "c", "components": [{"component": {"name": "r"}}]}, "version: Field required"),
        ({"id": "c", "firstSeen": "yesterday"}, "firstSeen: Input should be a valid datetime"),
        ({"id": "c", "components": "router"}, "components: Input should be a valid array"),
    ],
)
async def test_checkin_bodies_are_validated_strictly(
    client: httpx.AsyncClient, body: dict[str, Any], expected: str
) -> None:
    response = await client.post("/deis/v3/clusters", json=body)
    assert response.status_code == 400
    assert response.json()["code"] == 400
    assert expected in response.json()["message"]
    assert (await client.get("/deis/v3/clusters/count", headers=ADMIN)).json() == 0


async def test_checkin_size_and_rate_are_limited(app: FastAPI, client: httpx.AsyncClient) -> None:
    settings = app.state.settings
    huge = _checkin("c-big", **{f"component-{i}": "v" * 200 for i in range(190)})
    for component in huge["components"]:
        component["component"]["description"] = "x" * 1000
    too_large = await client.post("/deis/v3/clusters", json=huge)
    assert too_large.status_code == 413
    assert too_large.json()["message"] == (
        f"check-in larger than {settings.deis_checkin_max_bytes} bytes"
    )
    original = settings.deis_checkins_per_minute
    settings.deis_checkins_per_minute = 3
    try:
        codes = [
            (await client.post("/deis/v3/clusters", json=_checkin(f"c-{i}"))).status_code
            for i in range(4)
        ]
    finally:
        settings.deis_checkins_per_minute = original
    assert codes == [200, 200, 200, 429]
    assert (await client.get("/deis/v3/clusters/count", headers=ADMIN)).json() == 3


async def test_cluster_reads_need_a_reader(client: httpx.AsyncClient) -> None:
    response = await client.get("/deis/v3/clusters/count")
    assert response.status_code == 401
    assert response.json() == {"code": 401, "message": "authentication required"}


async def test_v2_reads_answer_like_v3(client: httpx.AsyncClient) -> None:
    await publish(client, "router", "stable", "v2.4.0", "2026-01-01T00:00:00Z")
    await client.post("/deis/v2/clusters/c-9", json=_checkin("c-9", router="v2.3.0"))
    for path in (
        "/versions/stable/router/latest",
        "/versions/stable/router",
        "/clusters/count",
        "/clusters/c-9",
        "/clusters/age?checked_in_after=2000-01-01T00:00:00Z",
        "/clusters/checkins",
        "/clusters/persistent?epoch=2000-01-01T00:00:00Z",
    ):
        v2 = await client.get(f"/deis/v2{path}", headers=ADMIN)
        v3 = await client.get(f"/deis/v3{path}", headers=ADMIN)
        assert v2.status_code == v3.status_code == 200, (path, v2.text)
        assert v2.json() == v3.json()


async def test_checkin_answers_what_a_read_of_the_cluster_shows(client: httpx.AsyncClient) -> None:
    """The answer to a check-in is derived from the history before it plus itself; it must be
    what the aggregates over all check-ins give right after."""
    await publish(client, "router", "stable", "v2.4.0", "2026-01-01T00:00:00Z")
    await publish(client, "router", "stable", "v2.5.0", "2026-02-01T00:00:00Z")
    await publish(client, "builder", "beta", "v1.1.0", "2026-01-01T00:00:00Z")
    bodies = [
        _checkin("c-same", router="v2.3.0"),
        {"id": "c-same", "components": []},
        _checkin("c-same", router="v2.5.0", builder="v1.0.0", minio="v9"),
    ]
    bodies[2]["components"][1]["version"]["train"] = "beta"
    for body in bodies:
        answered = await client.post("/deis/v3/clusters", json=body)
        assert answered.status_code == 200, answered.text
        shown = await client.get("/deis/v3/clusters/c-same", headers=ADMIN)
        assert answered.json() == shown.json()
    router, builder, minio = answered.json()["components"]
    assert "updateAvailable" not in router
    assert builder["updateAvailable"] == "v1.1.0"
    assert "updateAvailable" not in minio
    native = await client.post(
        "/api/v1/clusters",
        json={"id": "c-same", "components": bodies[0]["components"]},
        headers=ADMIN,
    )
    assert native.status_code == 201
    shown = await client.get("/api/v1/clusters/c-same", headers=ADMIN)
    assert native.json() == shown.json()
    assert shown.json()["cluster"]["checkins_count"] == 4
    assert shown.json()["cluster"]["updates_available"] == [
        {"name": "router", "train": "stable", "installed": "v2.3.0", "latest": "v2.5.0"}
    ]
