"""Dead-job expiry: silent running/waiting/unknown jobs after 30 min, queued after 14 days;
every process runs it, and the counters move once."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import httpx

from aerodrome.db.types import utcnow
from aerodrome.work import expiry
from tests.conftest import ADMIN, Backend, server_environment, start_server

RUN = "teuthology-2024-03-01_10:00:00-rados-main-distro-default-smithi"
STATUSES = {"1": "running", "2": "waiting", "3": "unknown", "4": "queued", "5": "pass"}


async def _post_jobs(client: httpx.AsyncClient, statuses: dict[str, str]) -> None:
    for job_id, status in statuses.items():
        body = {"job_id": job_id, "status": status}
        response = await client.post(f"/paddles/runs/{RUN}/jobs/", json=body, headers=ADMIN)
        assert response.status_code == 200, response.text


async def _run(client: httpx.AsyncClient) -> dict[str, Any]:
    response = await client.get(f"/paddles/runs/{RUN}/", headers=ADMIN)
    assert response.status_code == 200, response.text
    run: dict[str, Any] = response.json()
    return run


async def _until_no_running_jobs(http: httpx.AsyncClient) -> dict[str, Any]:
    """Poll the run (the expiry runs in the server's own processes) for up to 20 s."""
    for _ in range(100):
        run = await _run(http)
        if not run["results"]["running"]:
            return run
        await asyncio.sleep(0.2)
    return run


async def _round(backend: Backend, after: timedelta, *, requeues: int = 0) -> int:
    settings = backend.settings.model_copy(update={"requeue_lapsed_claims": requeues})
    async with backend.database.unit_of_work() as session:
        return await expiry.expire_silent_jobs(session, settings, utcnow() + after)


async def test_silent_jobs_become_dead(client: httpx.AsyncClient, backend: Backend) -> None:
    await _post_jobs(client, STATUSES)
    assert await _round(backend, timedelta(minutes=29)) == 0
    assert await _round(backend, timedelta(minutes=31)) == 3
    statuses = {j["job_id"]: j["status"] for j in (await _run(client))["jobs"]}
    assert statuses == {"1": "dead", "2": "dead", "3": "dead", "4": "queued", "5": "pass"}
    assert await _round(backend, timedelta(minutes=31)) == 0  # idempotent
    assert await _round(backend, timedelta(days=15)) == 1
    run = await _run(client)
    assert run["results"]["dead"] == 4
    assert run["results"]["pass"] == 1
    assert run["results"]["total"] == 5
    assert run["status"] == "finished dead"


async def test_concurrent_rounds_count_once(client: httpx.AsyncClient, backend: Backend) -> None:
    await _post_jobs(client, {str(n): "running" for n in range(30)})
    done = await asyncio.gather(*(_round(backend, timedelta(hours=1)) for _ in range(4)))
    assert sum(done) == 30
    run = await _run(client)
    assert run["results"]["dead"] == 30
    assert run["results"]["running"] == 0


async def test_every_server_process_expires_but_once(backend: Backend) -> None:
    """Two worker processes, each with its expiry loop: the jobs die once, counted once."""
    environment = server_environment(
        backend,
        AERODROME_WORKERS="2",
        AERODROME_JOB_DEAD_AFTER_SECONDS="1",
        AERODROME_EXPIRY_INTERVAL_SECONDS="0.2",
    )
    server, url = await asyncio.to_thread(start_server, environment)
    try:
        async with httpx.AsyncClient(base_url=url, timeout=30) as http:
            await _post_jobs(http, {str(n): "running" for n in range(5)})
            run = await _until_no_running_jobs(http)
    finally:
        server.terminate()
        await asyncio.to_thread(server.wait, 30)
    assert run["results"]["dead"] == 5
    assert run["results"]["total"] == 5
    assert run["status"] == "finished dead"


async def _pop(client: httpx.AsyncClient, worker: str) -> Any:
    response = await client.get(f"/queue/pop_queue/?queue=smithi&worker={worker}", headers=ADMIN)
    assert response.status_code == 200, response.text
    return response.json()


async def test_a_lapsed_claim_goes_back_to_its_queue_as_often_as_allowed(
    client: httpx.AsyncClient, backend: Backend
) -> None:
    """A worker dies after pop_queue: the job is queued again (once here), then dead."""
    posted = {"job_id": "1", "status": "queued", "queue": "smithi"}
    response = await client.post(f"/paddles/runs/{RUN}/jobs/", json=posted, headers=ADMIN)
    assert response.status_code == 200, response.text
    assert (await _pop(client, "w1"))["job_id"] == "1"
    assert await _round(backend, timedelta(minutes=29), requeues=1) == 0  # the lease still runs
    assert await _round(backend, timedelta(minutes=31), requeues=1) == 1
    run = await _run(client)
    assert (run["jobs"][0]["status"], run["results"]["queued"], run["results"]["waiting"]) == (
        "queued",
        1,
        0,
    )
    stats = await client.get("/queue/stats/?queue=smithi", headers=ADMIN)
    assert stats.json()["count"] == 1
    assert (await _pop(client, "w2"))["job_id"] == "1"  # claimed a second time
    assert await _round(backend, timedelta(minutes=31), requeues=1) == 1
    run = await _run(client)
    assert run["jobs"][0]["status"] == "dead"
    assert (run["results"]["dead"], run["results"]["queued"], run["results"]["total"]) == (1, 0, 1)
    assert await _pop(client, "w3") is None


async def test_only_claims_still_waiting_for_their_worker_go_back_to_the_queue(
    client: httpx.AsyncClient, backend: Backend
) -> None:
    jobs = [
        {"job_id": "1", "status": "queued", "queue": "smithi"},
        {"job_id": "2", "status": "queued", "queue": "smithi"},
        {"job_id": "3", "status": "waiting"},  # waiting, but never claimed
    ]
    for body in jobs:
        response = await client.post(f"/paddles/runs/{RUN}/jobs/", json=body, headers=ADMIN)
        assert response.status_code == 200, response.text
    await _pop(client, "w1")
    await _pop(client, "w1")
    # The worker of job 2 reports: the job runs, and is no claim waiting for its worker.
    running = {"status": "running"}
    response = await client.put(f"/paddles/runs/{RUN}/jobs/2/", json=running, headers=ADMIN)
    assert response.status_code == 200, response.text
    assert await _round(backend, timedelta(hours=1), requeues=3) == 3
    statuses = {j["job_id"]: j["status"] for j in (await _run(client))["jobs"]}
    assert statuses == {"1": "queued", "2": "dead", "3": "dead"}
