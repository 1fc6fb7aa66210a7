"""Native cluster routes, and concurrent first check-ins of one cluster over real connections."""

from __future__ import annotations

import asyncio

import httpx

from tests.conftest import ADMIN, LiveServer
from tests.helpers import team_with_user

COMPONENTS = [{"component": {"name": "router"}, "version": {"train": "stable", "version": "v1"}}]


async def test_native_checkin_needs_credentials(client: httpx.AsyncClient) -> None:
    body = {"id": "c-1", "components": COMPONENTS}
    assert (await client.post("/api/v1/clusters", json=body)).status_code == 401
    _, member = await team_with_user(client, "ops", "olga")
    created = await client.post("/api/v1/clusters", json=body, headers=member)
    assert created.status_code == 201, created.text
    cluster = created.json()["cluster"]
    assert cluster["checkins_count"] == 1
    assert cluster["first_seen"] == cluster["last_seen"]
    assert cluster["updates_available"] == []
    await client.post("/api/v1/clusters", json={"id": "c-1", "components": []}, headers=ADMIN)
    checkins = (await client.get("/api/v1/clusters/c-1/checkins", headers=ADMIN)).json()
    assert checkins["_meta"]["count"] == 2
    assert [c["components"] for c in checkins["checkins"]] == [[], COMPONENTS]
    listed = (await client.get("/api/v1/clusters?limit=1", headers=ADMIN)).json()
    assert listed["_meta"]["count"] == 1
    assert listed["clusters"][0]["components"] == []


async def test_native_errors(client: httpx.AsyncClient) -> None:
    missing = await client.get("/api/v1/clusters/none", headers=ADMIN)
    assert missing.status_code == 404
    assert missing.json()["message"] == "cluster none not found"
    no_checkins = await client.get("/api/v1/clusters/none/checkins", headers=ADMIN)
    assert no_checkins.status_code == 404
    unknown = await client.get("/api/v1/clusters?colour=red", headers=ADMIN)
    assert unknown.status_code == 400
    assert "unknown parameter colour" in unknown.json()["message"]
    assert (await client.get("/api/v1/clusters")).status_code == 401


async def test_concurrent_first_checkins_of_one_cluster(live_server: LiveServer) -> None:
    body = {"id": "racing", "components": COMPONENTS}
    async with httpx.AsyncClient(base_url=live_server.url, timeout=30) as http:
        answers = await asyncio.gather(
            *(http.post("/deis/v3/clusters", json=body) for _ in range(20))
        )
        assert [a.status_code for a in answers] == [200] * 20, [a.text for a in answers]
        shown = await http.get("/api/v1/clusters/racing", headers=ADMIN)
        assert shown.json()["cluster"]["checkins_count"] == 20
        assert (await http.get("/deis/v3/clusters/count", headers=ADMIN)).json() == 1
