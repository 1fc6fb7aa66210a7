"""paddles `/nodes/`: inventory, filters, the lock rules, lock_many/unlock_many, job links,
and the native `/api/v1/nodes`."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx

from tests.conftest import ADMIN, LiveServer
from tests.helpers import team_with_user

DOMAIN = ".front.example.com"


async def add_nodes(
    client: httpx.AsyncClient, machine_type: str, count: int, **fields: Any
) -> list[str]:
    names = [f"{machine_type}{i:03d}{DOMAIN}" for i in range(count)]
    for name in names:
        body = {"name": name, "machine_type": machine_type, "up": True, **fields}
        response = await client.post("/nodes/", json=body, headers=ADMIN)
        assert response.status_code == 200, response.text
    return names


async def nodes(client: httpx.AsyncClient, query: str = "") -> list[dict[str, Any]]:
    response = await client.get(f"/nodes/{query}", headers=ADMIN)
    assert response.status_code == 200, response.text
    listed: list[dict[str, Any]] = response.json()
    return listed


async def lock(
    client: httpx.AsyncClient, name: str, body: dict[str, Any], prefix: str = ""
) -> httpx.Response:
    # teuthology sends this body without a Content-Type.
    content = json.dumps(body).encode()
    return await client.put(f"{prefix}/nodes/{name}/lock/", content=content, headers=ADMIN)


async def test_inventory_and_filters(client: httpx.AsyncClient) -> None:
    smithi = await add_nodes(client, "smithi", 3, os_type="ubuntu", os_version="22.04")
    await add_nodes(client, "mira", 2, os_type="centos", os_version="9")
    await client.put(f"/nodes/{smithi[0]}/", json={"up": False}, headers=ADMIN)
    await lock(client, smithi[1], {"locked": True, "locked_by": "alice@host"})
    assert len(await nodes(client)) == 5
    assert len(await nodes(client, "?machine_type=smithi|mira&up=1")) == 4
    assert [n["name"] for n in await nodes(client, "?locked=True")] == [smithi[1]]
    assert len(await nodes(client, "?locked=0&machine_type=smithi")) == 2
    assert len(await nodes(client, "?locked_by=alice@host&up=true")) == 1
    assert len(await nodes(client, "?os_type=centos&os_version=9&count=1")) == 1
    assert len(await nodes(client, "?up=false")) == 1
    bad = await client.get("/nodes/?locked=maybe", headers=ADMIN)
    assert bad.status_code == 400
    assert set(bad.json()) == {"message"}
    types = (await client.get("/paddles/nodes/machine_types", headers=ADMIN)).json()
    assert types == ["mira", "smithi"]
    node = (await client.get(f"/nodes/{smithi[1]}", headers=ADMIN)).json()
    assert node["locked"] is True
    assert node["locked_by"] == "alice@host"
    assert len(node["locked_since"]) == 19
    duplicate = await client.post("/nodes/", json={"name": smithi[0]}, headers=ADMIN)
    assert duplicate.status_code == 400
    assert (await client.delete(f"/nodes/{smithi[2]}/", headers=ADMIN)).status_code == 200
    missing = await client.get(f"/nodes/{smithi[2]}/", headers=ADMIN)
    assert missing.status_code == 404
    assert set(missing.json()) == {"message"}


async def test_lock_rules(client: httpx.AsyncClient) -> None:
    [name] = await add_nodes(client, "smithi", 1)
    no_owner = await lock(client, name, {"locked": True})
    assert no_owner.status_code == 400
    first = await lock(client, name, {"locked": True, "locked_by": "a", "description": "run/1"})
    assert first.status_code == 200
    assert first.json()["description"] == "run/1"
    second = await lock(client, name, {"locked": True, "locked_by": "b"})
    assert second.status_code == 403
    assert "locked by a" in second.json()["message"]
    stranger = await lock(client, name, {"locked": False, "locked_by": "b"})
    assert stranger.status_code == 403
    owner = await lock(client, name, {"locked": False, "locked_by": "a"}, prefix="/paddles")
    assert owner.status_code == 200
    assert owner.json()["locked"] is False
    again = await lock(client, name, {"locked": False, "locked_by": "a"})
    assert again.status_code == 403
    absent = await lock(client, "nowhere" + DOMAIN, {"locked": True, "locked_by": "a"})
    assert absent.status_code == 404


async def test_lock_many_is_all_or_nothing(client: httpx.AsyncClient) -> None:
    smithi = await add_nodes(client, "smithi", 3)
    await add_nodes(client, "mira", 1)
    body = {"count": 5, "locked_by": "a", "machine_type": "smithi|mira", "description": "d"}
    short = await client.post("/nodes/lock_many/", json=body, headers=ADMIN)
    assert short.status_code == 503
    assert short.json() == {"message": "only 4 nodes available"}
    assert await nodes(client, "?locked=1") == []
    taken = await client.post("/nodes/lock_many/", json={**body, "count": 4}, headers=ADMIN)
    assert taken.status_code == 200
    assert len(taken.json()) == 4
    assert all(n["locked_by"] == "a" for n in taken.json())
    missing = await client.post("/nodes/lock_many/", json={"count": 1}, headers=ADMIN)
    assert missing.status_code == 400
    # unlock_many is atomic too: one node not held by the caller unlocks nothing.
    await client.post(
        "/nodes/unlock_many/", json={"locked_by": "a", "names": [smithi[0]]}, headers=ADMIN
    )
    mixed = {"locked_by": "a", "names": smithi}
    refused = await client.post("/nodes/unlock_many/", json=mixed, headers=ADMIN)
    assert refused.status_code == 403
    assert smithi[0] in refused.json()["message"]
    assert len(await nodes(client, "?locked=1")) == 3
    rest = {"locked_by": "a", "names": [*smithi[1:], f"mira000{DOMAIN}"]}
    done = await client.post("/nodes/unlock_many/", json=rest, headers=ADMIN)
    assert done.status_code == 200
    assert await nodes(client, "?locked=1") == []


async def test_node_jobs_and_job_stats(client: httpx.AsyncClient) -> None:
    [name] = await add_nodes(client, "smithi", 1)
    run = "teuthology-2024-03-01_10:00:00-rados-main-distro-default-smithi"
    for job_id, status in (("1", "pass"), ("2", "fail"), ("3", "pass")):
        body: dict[str, Any] = {"job_id": job_id, "status": status, "machine_type": "smithi"}
        body["targets"] = {f"ubuntu@{name}": "ssh-rsa AAA"}
        response = await client.post(f"/runs/{run}/jobs/", json=body, headers=ADMIN)
        assert response.status_code == 200
    jobs = (await client.get(f"/nodes/{name}/jobs/?count=2", headers=ADMIN)).json()
    assert [j["job_id"] for j in jobs] == ["3", "2"]
    stats = (await client.get("/nodes/job_stats/?machine_type=smithi", headers=ADMIN)).json()
    assert stats == {name: {"pass": 2, "fail": 1}}


async def test_native_nodes_api(client: httpx.AsyncClient) -> None:
    _, member = await team_with_user(client, "ops", "olive")
    created = await client.post(
        "/api/v1/nodes", json={"name": "n1", "machine_type": "vm"}, headers=ADMIN
    )
    assert created.status_code == 201
    node_id = created.json()["node"]["id"]
    refused = await client.post("/api/v1/nodes", json={"name": "n2"}, headers=member)
    assert refused.status_code == 403
    locked = await client.post(
        f"/api/v1/nodes/{node_id}/lock", json={"locked_by": "olive"}, headers=member
    )
    assert locked.status_code == 200
    assert locked.json()["node"]["locked"] is True
    again = await client.post("/api/v1/nodes/n1/lock", json={"locked_by": "x"}, headers=member)
    assert again.status_code == 403
    assert again.json()["status_code"] == 403
    many = await client.post(
        "/api/v1/nodes/lock_many",
        json={"count": 1, "locked_by": "x", "machine_type": "vm"},
        headers=member,
    )
    assert many.status_code == 409
    unlocked = await client.post(
        "/api/v1/nodes/unlock_many", json={"locked_by": "olive", "names": ["n1"]}, headers=member
    )
    assert unlocked.status_code == 200
    assert unlocked.json()["_meta"]["count"] == 1
    listed = (await client.get("/api/v1/nodes?where=machine_type:vm", headers=ADMIN)).json()
    assert listed["_meta"]["count"] == 1


async def test_fifty_concurrent_lock_many_never_share_a_node(live_server: LiveServer) -> None:
    """50 independent HTTP clients each ask for 2 of 60 nodes: 30 win, 20 get 503, and no node
    is handed out twice."""
    async with httpx.AsyncClient(base_url=live_server.url, headers=ADMIN, timeout=60) as setup:
        names = await add_nodes(setup, "contended", 60)

    async def lock_two(index: int) -> httpx.Response:
        async with httpx.AsyncClient(base_url=live_server.url, headers=ADMIN, timeout=60) as http:
            body = {"count": 2, "locked_by": f"user{index}", "machine_type": "contended"}
            return await http.post("/nodes/lock_many/", json=body)

    responses = await asyncio.gather(*(lock_two(i) for i in range(50)))
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] * 30 + [503] * 20, [r.text for r in responses]
    handed_out = [n["name"] for r in responses if r.status_code == 200 for n in r.json()]
    assert sorted(handed_out) == sorted(names)
    async with httpx.AsyncClient(base_url=live_server.url, headers=ADMIN) as check:
        stored = (await check.get("/nodes/?machine_type=contended")).json()
    owners = {n["name"]: n["locked_by"] for n in stored}
    for response in responses:
        if response.status_code == 200:
            for node in response.json():
                assert owners[node["name"]] == node["locked_by"]


async def test_lock_many_again_with_the_same_description_reuses_the_nodes(
    client: httpx.AsyncClient,
) -> None:
    """paddles recycles a caller's locks: a job that locks its machines twice keeps them."""
    await add_nodes(client, "smithi", 4)
    body = {"count": 2, "locked_by": "a", "machine_type": "smithi", "description": "run/1"}
    first = await client.post("/nodes/lock_many/", json=body, headers=ADMIN)
    assert first.status_code == 200, first.text
    again = await client.post("/nodes/lock_many/", json=body, headers=ADMIN)
    assert again.status_code == 200, again.text
    assert [n["name"] for n in again.json()] == [n["name"] for n in first.json()]
    assert len(await nodes(client, "?locked=1")) == 2
    # Another description, or another owner, takes free nodes.
    other = await client.post(
        "/nodes/lock_many/", json={**body, "description": "run/2"}, headers=ADMIN
    )
    assert other.status_code == 200, other.text
    assert not {n["name"] for n in other.json()} & {n["name"] for n in first.json()}
    refused = await client.post("/nodes/lock_many/", json={**body, "locked_by": "b"}, headers=ADMIN)
    assert (refused.status_code, refused.json()) == (503, {"message": "only 0 nodes available"})
    # More nodes than the description holds: free ones, all or none.
    more = await client.post("/nodes/lock_many/", json={**body, "count": 3}, headers=ADMIN)
    assert (more.status_code, more.json()) == (503, {"message": "only 0 nodes available"})
