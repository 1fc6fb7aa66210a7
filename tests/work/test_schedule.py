"""`POST /jobs/schedule` over HTTP: with a topic (dciclient's way) and from job definitions by
priority, and fifty remotecis scheduling at once on a live server."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import update

from aerodrome.db.metadata import metadata
from tests.conftest import ADMIN, Backend, LiveServer
from tests.helpers import (
    commit_elsewhere,
    create,
    eventually,
    statements_reading,
    until_all_heard,
)
from tests.work.factories import Member, agent, component, member, world

NOTHING = "No jobs available for run."


async def _schedule(client: httpx.AsyncClient, who: Member, **body: Any) -> httpx.Response:
    return await client.post("/api/v1/jobs/schedule", json=body, auth=who.agent)


async def test_schedule_on_a_topic_takes_the_newest_public_components(
    client: httpx.AsyncClient,
) -> None:
    alice = await member(client, "alice")
    w = await world(client, alice)
    newest = await component(client, w.topic["id"], "ocp", "ocp-1.1")
    await component(client, w.topic["id"], "ocp", "ocp-private", team_id=alice.team["id"])
    await component(client, w.topic["id"], "ocp", "ocp-inactive", state="inactive")
    response = await _schedule(client, alice, topic_id=w.topic["id"], name="ci", comment="c")
    assert response.status_code == 201, response.text
    job = response.json()["job"]
    assert [c["id"] for c in job["components"]] == [newest["id"], w.components["storage"]["id"]]
    assert (job["remoteci_id"], job["team_id"], job["name"]) == (
        alice.remoteci["id"],
        alice.team["id"],
        "ci",
    )
    pinned = await _schedule(
        client,
        alice,
        topic_id=w.topic["id"],
        components_ids=[w.components["ocp"]["id"]],
        team_id=alice.team["id"],
    )
    assert pinned.json()["job"]["components"][0]["id"] == w.components["ocp"]["id"]
    other_team = await _schedule(client, alice, topic_id=w.topic["id"], team_id=w.product["id"])
    assert other_team.status_code == 400


async def test_schedule_names_the_missing_type(client: httpx.AsyncClient) -> None:
    alice = await member(client, "alice")
    w = await world(client, alice, types=("ocp",))
    await create(
        client,
        "topics",
        {"name": "T2", "product_id": w.product["id"], "component_types": ["ocp", "kernel"]},
    )
    topics = (await client.get("/api/v1/topics?where=name:T2", headers=ADMIN)).json()["topics"]
    await component(client, topics[0]["id"], "ocp", "ocp-9")
    response = await _schedule(client, alice, topic_id=topics[0]["id"])
    assert response.status_code == 412
    assert "'kernel'" in response.json()["message"]
    assert response.json()["payload"]["type"] == "kernel"
    by_user = await client.post(
        "/api/v1/jobs/schedule", json={"topic_id": w.topic["id"]}, headers=alice.user
    )
    assert by_user.status_code == 403


async def test_job_definitions_by_priority_once_per_component_set(
    client: httpx.AsyncClient,
) -> None:
    alice, bob = await member(client, "alice"), await member(client, "bob")
    w = await world(client, alice, bob)
    for name, priority in (("low", 1), ("high", 10), ("high-later", 10)):
        await create(
            client,
            "jobdefinitions",
            {"name": name, "topic_id": w.topic["id"], "priority": priority},
        )
    names = []
    for _ in range(3):
        response = await _schedule(client, alice)
        assert response.status_code == 201, response.text
        names.append(response.json()["job"]["name"])
        assert response.json()["job"]["jobdefinition_id"] is not None
    assert names == ["high", "high-later", "low"]
    done = await _schedule(client, alice)
    assert done.status_code == 412
    assert done.json()["message"] == NOTHING
    # Another remoteci has its own work; new components make the work new again.
    assert (await _schedule(client, bob)).json()["job"]["name"] == "high"
    await component(client, w.topic["id"], "storage", "storage-2.0")
    again = await _schedule(client, alice)
    assert again.json()["job"]["name"] == "high"
    assert again.json()["job"]["components"][1]["name"] == "storage-2.0"


async def test_only_topics_of_products_the_team_may_use(client: httpx.AsyncClient) -> None:
    alice, bob = await member(client, "alice"), await member(client, "bob")
    w = await world(client, alice)
    await create(client, "jobdefinitions", {"name": "d", "topic_id": w.topic["id"]})
    assert (await _schedule(client, bob)).status_code == 412
    assert (await _schedule(client, bob, topic_id=w.topic["id"])).status_code == 404
    unknown = await client.post(
        "/api/v1/jobdefinitions", json={"name": "x", "topic_id": bob.team["id"]}, headers=ADMIN
    )
    assert unknown.status_code == 400
    refused = await client.post(
        "/api/v1/jobdefinitions", json={"name": "x", "topic_id": w.topic["id"]}, headers=bob.user
    )
    assert refused.status_code == 403
    assert (await _schedule(client, alice)).status_code == 201


async def test_the_catalog_is_read_again_only_once_it_changed(
    backend: Backend, app: FastAPI, client: httpx.AsyncClient
) -> None:
    """What every schedule asks (the topic, its newest components, the definitions a team may
    run) is remembered until one of its tables changes (db/remembered.py)."""
    alice = await member(client, "alice")
    w = await world(client, alice)
    await create(client, "jobdefinitions", {"name": "d", "topic_id": w.topic["id"]})
    await until_all_heard(app)
    assert (await _schedule(client, alice, topic_id=w.topic["id"])).status_code == 201
    assert (await _schedule(client, alice)).json()["job"]["name"] == "d"
    assert (await _schedule(client, alice)).status_code == 412  # every batch of definitions
    with (
        statements_reading(app, "components") as component_reads,
        statements_reading(app, "topics") as topic_reads,
        statements_reading(app, "jobdefinitions") as definition_reads,
    ):
        for _ in range(3):
            assert (await _schedule(client, alice, topic_id=w.topic["id"])).status_code == 201
            assert (await _schedule(client, alice)).status_code == 412
    reads = (len(component_reads), len(topic_reads), len(definition_reads))
    # SQLite says only that the file changed: a schedule after a commit (the one with a
    # topic) reads again what it asks, one after a 412 (nothing committed) does not. Each
    # round: the definitions (2 batches, the second empty) and the components after the
    # commit; the topic, remembered before it.
    assert reads == ((0, 0, 0) if backend.name == "postgresql" else (3, 3, 6))
    newer = await component(client, w.topic["id"], "ocp", "ocp-2.0")
    again = await _schedule(client, alice)
    assert again.json()["job"]["components"][0]["id"] == newer["id"]


async def test_a_component_retired_elsewhere_is_no_longer_scheduled(
    backend: Backend, client: httpx.AsyncClient
) -> None:
    """Retired by another process: heard of by notification (PostgreSQL) or by the database
    file's data version (SQLite)."""
    alice = await member(client, "alice")
    w = await world(client, alice, types=("ocp",))
    newer = await component(client, w.topic["id"], "ocp", "ocp-2.0")
    first = await _schedule(client, alice, topic_id=w.topic["id"])
    assert first.json()["job"]["components"][0]["id"] == newer["id"]
    components = metadata.tables["components"]
    retired = update(components).where(components.c.id == uuid.UUID(newer["id"]))
    await commit_elsewhere(backend, retired.values(state="inactive"))

    async def older_is_scheduled() -> bool:
        job = (await _schedule(client, alice, topic_id=w.topic["id"])).json()["job"]
        return bool(job["components"][0]["id"] == w.components["ocp"]["id"])

    await eventually(older_is_scheduled, seconds=2)


async def _schedule_until_answered(client: httpx.AsyncClient, who: Member) -> httpx.Response:
    """As an agent does: a 503 (SQLite's writer lock stayed taken past its busy timeout on a
    loaded machine) changed nothing and says when to retry."""
    for _ in range(5):
        response = await _schedule(client, who)
        if response.status_code != 503:
            return response
        await asyncio.sleep(float(response.headers["Retry-After"]))
    return response


async def test_fifty_remotecis_at_once_never_get_the_same_work_twice(
    live_server: LiveServer,
) -> None:
    async with httpx.AsyncClient(base_url=live_server.url, timeout=60) as client:
        members = await asyncio.gather(*(agent(client, f"m{i}") for i in range(50)))
        w = await world(client, *members)
        for name, priority in (("first", 2), ("second", 1)):
            await create(
                client,
                "jobdefinitions",
                {"name": name, "topic_id": w.topic["id"], "priority": priority},
            )
        # Three concurrent requests per remoteci for two pieces of work: 150 at once.
        requests = (_schedule_until_answered(client, m) for m in members for _ in range(3))
        responses = await asyncio.gather(*requests)
    statuses = Counter(r.status_code for r in responses)
    assert statuses == {201: 100, 412: 50}, statuses
    given = [
        (j["remoteci_id"], j["jobdefinition_id"], tuple(c["id"] for c in j["components"]))
        for r in responses
        if r.status_code == 201
        for j in [r.json()["job"]]
    ]
    assert len(set(given)) == len(given) == 100
    assert Counter(remoteci for remoteci, _, _ in given) == {m.remoteci["id"]: 2 for m in members}
