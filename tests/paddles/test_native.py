"""The native `/api/v1/runs` and `/api/v1/queues`: the same runs as paddles, house style."""

from __future__ import annotations

import httpx

from tests.conftest import ADMIN
from tests.helpers import create, team_with_user

RUN = "teuthology-2024-03-01_10:00:00-rados-main-distro-default-smithi"


async def test_paddles_runs_are_native_runs(client: httpx.AsyncClient) -> None:
    body = {"job_id": "1", "status": "pass"}
    await client.post(f"/paddles/runs/{RUN}/jobs/", json=body, headers=ADMIN)
    listed = (await client.get("/api/v1/runs?where=suite:rados", headers=ADMIN)).json()
    assert listed["_meta"]["count"] == 1
    run = listed["runs"][0]
    assert run["pass"] == 1
    assert run["total"] == 1
    assert run["status"] == "finished pass"
    by_name = await client.get(f"/api/v1/runs/{RUN}", headers=ADMIN)
    assert by_name.status_code == 200
    assert by_name.headers["ETag"] == run["etag"]


async def test_native_run_writes_and_team_scope(client: httpx.AsyncClient) -> None:
    team, member = await team_with_user(client, "ceph", "carol")
    _, stranger = await team_with_user(client, "other", "dave")
    mine = await create(client, "runs", {"name": "private-run", "team_id": team["id"]}, member)
    assert mine["status"] == "empty"
    assert mine["total"] == 0
    public = await create(client, "runs", {"name": RUN}, stranger)
    assert public["suite"] == "rados"
    assert public["machine_type"] == "smithi"
    seen = (await client.get("/api/v1/runs", headers=stranger)).json()["runs"]
    assert [r["name"] for r in seen] == [RUN]
    hidden = await client.get(f"/paddles/runs/{mine['name']}/", headers=stranger)
    assert hidden.status_code == 404
    refused = await client.post(
        f"/paddles/runs/{mine['name']}/jobs/", json={"job_id": "1"}, headers=stranger
    )
    assert refused.status_code in (403, 404)
    counters = await client.put(
        f"/api/v1/runs/{mine['id']}",
        json={"pass": 5},
        headers={**member, "If-Match": mine["etag"]},
    )
    assert counters.status_code == 400
    renamed = await client.put(
        f"/api/v1/runs/{mine['id']}",
        json={"branch": "wip"},
        headers={**member, "If-Match": mine["etag"]},
    )
    assert renamed.status_code == 200
    assert renamed.json()["run"]["branch"] == "wip"


async def test_native_queues(client: httpx.AsyncClient) -> None:
    created = await create(client, "queues", {"name": "smithi"})
    assert created["paused_by"] is None
    listed = (await client.get("/api/v1/queues", headers=ADMIN)).json()
    assert listed["_meta"]["count"] == 1
    anonymous = await client.post("/api/v1/queues", json={"name": "x"})
    assert anonymous.status_code == 401
