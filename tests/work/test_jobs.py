"""Jobs over HTTP: creation, embeds, team isolation, updates with If-Match, job states,
key/values, pipelines, derived jobs, soft delete and purge, and the jobs_events feed."""

from __future__ import annotations

from typing import Any

import httpx

from tests.conftest import ADMIN
from tests.helpers import create
from tests.work.factories import component, job, member, world


async def _get(client: httpx.AsyncClient, url: str, **kwargs: Any) -> dict[str, Any]:
    response = await client.get(url, **kwargs)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_job_list_with_dciclient_parameters_and_embeds(client: httpx.AsyncClient) -> None:
    alice = await member(client, "alice")
    w = await world(client, alice)
    created = await job(client, alice, w, tags=["nightly"], configuration="ipi")
    assert created["status"] == "new"
    assert created["team_id"] == alice.team["id"]
    assert created["remoteci_id"] == alice.remoteci["id"]
    assert created["product_id"] == w.product["id"]
    assert [c["type"] for c in created["components"]] == ["ocp", "storage"]
    query = (
        "sort=-created_at&limit=10&offset=0&where=state:active&embed=topic,remoteci,team,components"
    )
    body = await _get(client, f"/api/v1/jobs?{query}", auth=alice.agent)
    assert body["_meta"]["count"] == 1
    (listed,) = body["jobs"]
    assert listed["topic"]["name"] == "OCP-4.16"
    assert listed["remoteci"]["name"] == "rci-alice"
    assert "api_secret" not in listed["remoteci"]
    assert listed["team"]["id"] == alice.team["id"]
    assert [c["name"] for c in listed["components"]] == ["ocp-1.0", "storage-1.0"]
    assert listed["pipeline_id"] is None
    bad = await client.get("/api/v1/jobs?embed=nope", headers=ADMIN)
    assert bad.status_code == 400
    assert "components" in bad.json()["payload"]["valid"]


async def test_a_remoteci_never_sees_another_teams_jobs(client: httpx.AsyncClient) -> None:
    alice, bob = await member(client, "alice"), await member(client, "bob")
    w = await world(client, alice, bob)
    private = await component(client, w.topic["id"], "ocp", "ocp-private", team_id=alice.team["id"])
    theirs = await job(client, alice, w, components=[private["id"]])
    await job(client, bob, w)
    for auth in (bob.agent, None):
        headers = bob.user if auth is None else None
        body = await _get(client, "/api/v1/jobs?embed=components", auth=auth, headers=headers)
        assert body["_meta"]["count"] == 1
        assert {j["team_id"] for j in body["jobs"]} == {bob.team["id"]}
        shown = await client.get(f"/api/v1/jobs/{theirs['id']}", auth=auth, headers=headers)
        assert shown.status_code == 404
    by_id = await _get(client, f"/api/v1/jobs?where=id:{theirs['id']}", auth=bob.agent)
    assert by_id["_meta"]["count"] == 0
    components = await _get(client, f"/api/v1/topics/{w.topic['id']}/components", auth=bob.agent)
    assert "ocp-private" not in {c["name"] for c in components["components"]}
    # Bob cannot use Alice's private component, nor write Alice's job.
    refused = await client.post(
        "/api/v1/jobs",
        json={"topic_id": w.topic["id"], "components": [private["id"]]},
        auth=bob.agent,
    )
    assert refused.status_code == 400
    state = await client.post(
        "/api/v1/jobstates", json={"job_id": theirs["id"], "status": "running"}, auth=bob.agent
    )
    assert state.status_code == 404
    everything = await _get(client, "/api/v1/jobs", headers=ADMIN)
    assert everything["_meta"]["count"] == 2


async def test_jobstates_move_status_duration_and_etag(client: httpx.AsyncClient) -> None:
    alice = await member(client, "alice")
    w = await world(client, alice)
    pipeline = await create(
        client, "pipelines", {"name": "nightly-1", "team_id": alice.team["id"]}, alice.user
    )
    created = await job(client, alice, w, pipeline_id=pipeline["id"])
    assert created["pipeline_id"] == pipeline["id"]
    etags = {created["etag"]}
    for status in ("pre-run", "running", "success"):
        response = await client.post(
            "/api/v1/jobstates",
            json={"job_id": created["id"], "status": status, "comment": f"now {status}"},
            auth=alice.agent,
        )
        assert response.status_code == 201, response.text
        assert response.json()["jobstate"]["status"] == status
        shown = (await _get(client, f"/api/v1/jobs/{created['id']}", auth=alice.agent))["job"]
        assert shown["status"] == status
        etags.add(shown["etag"])
    assert len(etags) == 4
    assert shown["duration"] >= 0
    assert shown["started"] is not None
    history = await _get(client, f"/api/v1/jobs/{created['id']}/jobstates", headers=alice.user)
    assert [s["status"] for s in history["jobstates"]] == ["pre-run", "running", "success"]
    run = (await _get(client, f"/api/v1/pipelines/{pipeline['id']}", headers=ADMIN))["pipeline"]
    assert (run["total"], run["pass"], run["queued"], run["status"]) == (1, 1, 0, "finished pass")
    jobs = await _get(client, f"/api/v1/pipelines/{pipeline['id']}/jobs", headers=alice.user)
    assert [j["id"] for j in jobs["jobs"]] == [created["id"]]
    wrong = await client.post(
        "/api/v1/jobstates", json={"job_id": created["id"], "status": "done"}, auth=alice.agent
    )
    assert wrong.status_code == 400


async def test_put_needs_if_match_and_records_status(client: httpx.AsyncClient) -> None:
    alice = await member(client, "alice")
    w = await world(client, alice)
    created = await job(client, alice, w)
    url = f"/api/v1/jobs/{created['id']}"
    missing = await client.put(url, json={"comment": "x"}, headers=alice.user)
    assert missing.status_code == 412
    assert missing.json()["message"] == "'If-match' header must be provided"
    body = {"comment": "flaky", "tags": ["a", "b"], "status": "failure", "status_reason": "boom"}
    updated = await client.put(url, json=body, headers={**alice.user, "If-Match": created["etag"]})
    assert updated.status_code == 200, updated.text
    job_after = updated.json()["job"]
    assert (job_after["comment"], job_after["tags"], job_after["status"]) == (
        "flaky",
        ["a", "b"],
        "failure",
    )
    assert updated.headers["ETag"] == job_after["etag"] != created["etag"]
    stale = await client.put(
        url, json={"comment": "y"}, headers={**ADMIN, "If-Match": created["etag"]}
    )
    assert stale.status_code == 412
    states = await _get(client, f"{url}/jobstates", headers=ADMIN)
    assert [(s["status"], s["comment"]) for s in states["jobstates"]] == [("failure", "boom")]


async def test_keyvalues_and_delete_then_purge(client: httpx.AsyncClient) -> None:
    alice = await member(client, "alice")
    w = await world(client, alice)
    pipeline = await create(
        client, "pipelines", {"name": "weekly", "team_id": alice.team["id"]}, alice.user
    )
    created = await job(client, alice, w, pipeline_id=pipeline["id"])
    url = f"/api/v1/jobs/{created['id']}"
    for value in (1.5, 2.5):
        kv = await client.post(
            f"{url}/kv", json={"key": "duration", "value": value}, auth=alice.agent
        )
        assert kv.status_code == 201, kv.text
    shown = (await _get(client, url, headers=ADMIN))["job"]
    assert [(k["key"], k["value"]) for k in shown["keys_values"]] == [("duration", 2.5)]
    gone = await client.request("DELETE", f"{url}/kv", json={"key": "duration"}, auth=alice.agent)
    assert gone.status_code == 204
    deleted = await client.delete(url, headers={**alice.user, "If-Match": shown["etag"]})
    assert deleted.status_code == 204
    assert (await client.get(url, headers=ADMIN)).status_code == 404
    archived = await _get(client, "/api/v1/jobs/purge", headers=ADMIN)
    assert [j["id"] for j in archived["jobs"]] == [created["id"]]
    assert (await client.post("/api/v1/jobs/purge", headers=alice.user)).status_code == 403
    assert (await client.post("/api/v1/jobs/purge", headers=ADMIN)).status_code == 204
    assert (await _get(client, "/api/v1/jobs/purge", headers=ADMIN))["_meta"]["count"] == 0
    run = (await _get(client, f"/api/v1/pipelines/{pipeline['id']}", headers=ADMIN))["pipeline"]
    assert (run["total"], run["queued"], run["status"]) == (0, 0, "empty")


async def test_update_upgrade_and_recheck(client: httpx.AsyncClient) -> None:
    alice = await member(client, "alice")
    w = await world(client, alice)
    first = await job(client, alice, w)
    newer = await component(client, w.topic["id"], "ocp", "ocp-1.1")
    updated = await client.post(f"/api/v1/jobs/{first['id']}/update", auth=alice.agent)
    assert updated.status_code == 201, updated.text
    new_job = updated.json()["job"]
    assert new_job["update_previous_job_id"] == first["id"]
    assert [c["id"] for c in new_job["components"]] == [newer["id"], w.components["storage"]["id"]]
    rechecked = (await client.post(f"/api/v1/jobs/{first['id']}/recheck", auth=alice.agent)).json()
    assert rechecked["job"]["previous_job_id"] == first["id"]
    assert [c["name"] for c in rechecked["job"]["components"]] == ["ocp-1.0", "storage-1.0"]
    no_next = await client.post(
        "/api/v1/jobs/upgrade", json={"job_id": first["id"]}, auth=alice.agent
    )
    assert no_next.status_code == 400
    nxt = await create(
        client,
        "topics",
        {"name": "OCP-4.17", "product_id": w.product["id"], "component_types": ["ocp"]},
    )
    topic = (await _get(client, f"/api/v1/topics/{w.topic['id']}", headers=ADMIN))["topic"]
    put = await client.put(
        f"/api/v1/topics/{topic['id']}",
        json={"next_topic_id": nxt["id"]},
        headers={**ADMIN, "If-Match": topic["etag"]},
    )
    assert put.status_code == 200, put.text
    missing = await client.post(
        "/api/v1/jobs/upgrade", json={"job_id": first["id"]}, auth=alice.agent
    )
    assert missing.status_code == 412
    assert "'ocp'" in missing.json()["message"]
    ocp = await component(client, nxt["id"], "ocp", "ocp-4.17.0")
    upgraded = await client.post(
        "/api/v1/jobs/upgrade", json={"job_id": first["id"]}, auth=alice.agent
    )
    assert upgraded.status_code == 201, upgraded.text
    assert upgraded.json()["job"]["topic_id"] == nxt["id"]
    assert [c["id"] for c in upgraded.json()["job"]["components"]] == [ocp["id"]]


async def test_jobs_events_feed(client: httpx.AsyncClient) -> None:
    alice, bob = await member(client, "alice"), await member(client, "bob")
    w = await world(client, alice, bob)
    mine = await job(client, alice, w)
    await job(client, bob, w)
    await client.post(
        "/api/v1/jobstates", json={"job_id": mine["id"], "status": "running"}, auth=alice.agent
    )
    everything = await _get(client, "/api/v1/jobs_events/0", headers=ADMIN)
    assert everything["_meta"]["count"] == 3
    ids = [e["id"] for e in everything["jobs_events"]]
    assert ids == sorted(ids)
    seen_by_alice = await _get(client, "/api/v1/jobs_events/0", auth=alice.agent)
    assert [(e["job_id"], e["status"]) for e in seen_by_alice["jobs_events"]] == [
        (mine["id"], "new"),
        (mine["id"], "running"),
    ]
    after_first = await _get(client, f"/api/v1/jobs_events/{ids[0]}", headers=ADMIN)
    assert after_first["_meta"]["count"] == 2
    sequence = await client.get("/api/v1/jobs_events/sequence", headers=ADMIN)
    assert sequence.json()["sequence"]["sequence"] == 0
    saved = await client.put(
        "/api/v1/jobs_events/sequence",
        json={"sequence": ids[1]},
        headers={**ADMIN, "If-Match": sequence.headers["ETag"]},
    )
    assert saved.status_code == 200, saved.text
    stale = await client.put(
        "/api/v1/jobs_events/sequence",
        json={"sequence": 9},
        headers={**ADMIN, "If-Match": sequence.headers["ETag"]},
    )
    assert stale.status_code == 412
    assert (
        await client.delete(f"/api/v1/jobs_events/{ids[1]}", auth=alice.agent)
    ).status_code == 403
    assert (await client.delete(f"/api/v1/jobs_events/{ids[1]}", headers=ADMIN)).status_code == 204
    assert (await _get(client, "/api/v1/jobs_events/0", headers=ADMIN))["_meta"]["count"] == 1


async def test_job_creation_rules(client: httpx.AsyncClient) -> None:
    alice, bob = await member(client, "alice"), await member(client, "bob")
    w = await world(client, alice)
    body = {"topic_id": w.topic["id"], "components": []}
    # A user names the remoteci; it must be one of their team's.
    no_remoteci = await client.post("/api/v1/jobs", json=body, headers=alice.user)
    assert no_remoteci.status_code == 400
    by_user = await client.post(
        "/api/v1/jobs", json={**body, "remoteci_id": alice.remoteci["id"]}, headers=alice.user
    )
    assert by_user.status_code == 201, by_user.text
    foreign = await client.post(
        "/api/v1/jobs", json={**body, "remoteci_id": alice.remoteci["id"]}, headers=bob.user
    )
    assert foreign.status_code == 400
    # Bob's team was not given the product.
    no_access = await client.post("/api/v1/jobs", json=body, auth=bob.agent)
    assert no_access.status_code == 404
    anonymous = await client.post("/api/v1/jobs", json=body)
    assert anonymous.status_code == 401
