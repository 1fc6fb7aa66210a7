"""Optimistic concurrency with real concurrent clients against `aerodrome serve`."""

from __future__ import annotations

import asyncio

import httpx

from tests.conftest import ADMIN, Backend, LiveServer, server_environment, start_server


async def test_twenty_concurrent_puts_with_one_etag(live_server: LiveServer) -> None:
    async with httpx.AsyncClient(base_url=live_server.url, headers=ADMIN, timeout=30) as setup:
        created = await setup.post("/api/v1/componenttypes", json={"name": "contended"})
        assert created.status_code == 201, created.text
        etag = created.json()["componenttype"]["etag"]
        # By id: the winner renames the type, and the losers must still find it.
        path = f"/api/v1/componenttypes/{created.json()['componenttype']['id']}"

    async def put(index: int) -> httpx.Response:
        # One connection per client: twenty independent HTTP clients, not one multiplexed pool.
        async with httpx.AsyncClient(base_url=live_server.url, headers=ADMIN, timeout=30) as http:
            return await http.put(
                path,
                json={"name": f"winner-{index}"},
                headers={"If-Match": etag},
            )

    responses = await asyncio.gather(*(put(i) for i in range(20)))
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] + [412] * 19, [
        r.text for r in responses if r.status_code not in (200, 412)
    ]
    winner = next(r for r in responses if r.status_code == 200).json()["componenttype"]
    for loser in (r for r in responses if r.status_code == 412):
        assert loser.json()["status_code"] == 412
    async with httpx.AsyncClient(base_url=live_server.url, headers=ADMIN) as check:
        stored = (await check.get(f"/api/v1/componenttypes/{winner['id']}")).json()["componenttype"]
    assert stored["name"] == winner["name"]
    assert stored["etag"] == winner["etag"] != etag


async def test_two_worker_processes_take_concurrent_writes(backend: Backend) -> None:
    """Two `serve` workers on one database behave like one: no write is refused or lost."""
    environment = server_environment(backend, AERODROME_WORKERS="2")
    server, url = await asyncio.to_thread(start_server, environment)
    try:
        limits = httpx.Limits(max_connections=50)
        async with httpx.AsyncClient(
            base_url=url, headers=ADMIN, timeout=60, limits=limits
        ) as http:
            responses = await asyncio.gather(
                *(
                    http.post("/api/v1/components", json={"name": f"c{i}", "type": "t"})
                    for i in range(150)
                )
            )
            listed = (await http.get("/api/v1/components?limit=1")).json()
    finally:
        server.terminate()
        await asyncio.to_thread(server.wait, 30)
    assert [r.status_code for r in responses] == [201] * 150
    assert listed["_meta"]["count"] == 150
