"""paddles `/queue/`: create, pause, stats, queued jobs, and the atomic claim of pop_queue."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from tests.conftest import ADMIN, LiveServer

RUN = "teuthology-2024-03-01_10:00:00-rados-main-distro-default-smithi"


async def queue_job(
    client: httpx.AsyncClient, job_id: str, *, priority: int = 100, queue: str = "smithi"
) -> None:
    body = {"job_id": job_id, "status": "queued", "queue": queue, "priority": priority}
    response = await client.post(f"/paddles/runs/{RUN}/jobs/", json=body, headers=ADMIN)
    assert response.status_code == 200, response.text


async def call(client: httpx.AsyncClient, method: str, path: str, **kwargs: Any) -> Any:
    response = await client.request(method, path, headers=ADMIN, **kwargs)
    assert response.status_code == 200, response.text
    return response.json()


async def test_create_pause_and_stats(client: httpx.AsyncClient) -> None:
    created = await call(client, "POST", "/queue/", json={"queue": "smithi"})
    assert created == {
        "queue": "smithi",
        "count": 0,
        "paused": False,
        "paused_by": None,
        "paused_since": None,
        "paused_until": None,
    }
    duplicate = await client.post("/queue/", json={"queue": "smithi"}, headers=ADMIN)
    assert duplicate.status_code == 400
    assert set(duplicate.json()) == {"message"}
    await queue_job(client, "1")
    await queue_job(client, "2")
    stats = await call(client, "GET", "/queue/stats/?queue=smithi")
    assert stats["count"] == 2
    pause = {"queue": "smithi", "paused": True, "paused_by": "alice", "pause_duration": 3600}
    paused = await call(client, "PUT", "/queue/", json=pause)
    assert paused["paused"] is True
    assert paused["paused_by"] == "alice"
    assert paused["paused_until"] > paused["paused_since"]
    assert await call(client, "GET", "/queue/pop_queue/?queue=smithi") is None
    assert [q["queue"] for q in await call(client, "GET", "/queue/?paused=1")] == ["smithi"]
    no_owner = await client.put("/queue/", json={"queue": "smithi", "paused": True}, headers=ADMIN)
    assert no_owner.status_code == 400
    resumed = await call(client, "PUT", "/queue/", json={"queue": "smithi", "paused": False})
    assert resumed["paused"] is False
    assert resumed["count"] == 2
    missing = await client.get("/queue/stats/?queue=nope", headers=ADMIN)
    assert missing.status_code == 404
    assert set(missing.json()) == {"message"}


async def test_pop_queue_claims_by_priority_then_age(client: httpx.AsyncClient) -> None:
    await queue_job(client, "1", priority=100)
    await queue_job(client, "2", priority=10)
    await queue_job(client, "3", priority=10)
    await queue_job(client, "4", priority=100, queue="other")
    listed = await call(client, "GET", "/queue/queued_jobs/?queue=smithi")
    assert [j["job_id"] for j in listed] == ["2", "3", "1"]
    popped = [
        (await call(client, "GET", "/paddles/queue/pop_queue?queue=smithi&worker=w1"))["job_id"]
        for _ in range(3)
    ]
    assert popped == ["2", "3", "1"]
    assert await call(client, "POST", "/queue/pop_queue/", json={"queue": "smithi"}) is None
    job = await call(client, "GET", f"/paddles/runs/{RUN}/jobs/2/")
    assert job["status"] == "waiting"
    run = await call(client, "GET", f"/paddles/runs/{RUN}/")
    assert run["results"]["waiting"] == 3
    assert run["results"]["queued"] == 1
    anonymous = await client.get("/queue/pop_queue/?queue=other")
    assert anonymous.status_code == 401


async def test_two_workers_never_pop_the_same_job(live_server: LiveServer) -> None:
    """40 concurrent claims from independent clients on 20 queued jobs: each job once."""
    async with httpx.AsyncClient(base_url=live_server.url, timeout=60) as setup:
        for number in range(20):
            await queue_job(setup, str(number), priority=number % 3, queue="contended")

    async def pop(worker: int) -> Any:
        async with httpx.AsyncClient(base_url=live_server.url, timeout=60) as http:
            return await call(http, "GET", f"/queue/pop_queue/?queue=contended&worker=w{worker}")

    claims = await asyncio.gather(*(pop(worker) for worker in range(40)))
    jobs = [claim["job_id"] for claim in claims if claim is not None]
    assert sorted(jobs, key=int) == [str(number) for number in range(20)]
    assert claims.count(None) == 20
    async with httpx.AsyncClient(base_url=live_server.url, timeout=60) as check:
        run = await call(check, "GET", f"/runs/{RUN}/")
    assert run["results"]["waiting"] == 20
    assert run["results"]["queued"] == 0


async def test_a_job_put_back_in_a_queue_counts_there(client: httpx.AsyncClient) -> None:
    body = {"job_id": "1", "status": "running", "machine_type": "mira"}
    posted = await client.post(f"/paddles/runs/{RUN}/jobs/", json=body, headers=ADMIN)
    assert posted.status_code == 200, posted.text
    requeued = await call(
        client, "PUT", f"/paddles/runs/{RUN}/jobs/1/", json={"status": "queued", "seed": 7}
    )
    assert (requeued["status"], requeued["seed"]) == ("queued", 7)
    again = {"status": "queued", "queue": "gibba", "description": "again"}
    await call(client, "PUT", f"/paddles/runs/{RUN}/jobs/1/", json=again)
    assert (await call(client, "GET", "/queue/stats/?queue=gibba"))["count"] == 1
    run = await call(client, "GET", f"/paddles/runs/{RUN}/")
    assert run["results"]["queued"] == 1
    assert run["jobs"][0]["description"] == "again"
    assert run["jobs"][0]["seed"] == 7
