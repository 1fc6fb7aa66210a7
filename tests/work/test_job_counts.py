"""`_meta.count` of an unfiltered job list comes from the counts the triggers keep: it must
equal what counting the rows says, after every kind of change and with concurrent writers."""

from __future__ import annotations

import asyncio
import uuid

import httpx
from sqlalchemy import func, insert, select

from aerodrome.db.row_counts import ROW_COUNTS, fold
from tests.conftest import ADMIN, Backend, LiveServer
from tests.work.factories import Member, agent, job, world


async def _counts(client: httpx.AsyncClient, *callers: Member) -> list[int]:
    """The unfiltered count as the super admin and as each caller's remoteci."""
    answers = [await client.get("/api/v1/jobs?limit=1", headers=ADMIN)]
    answers += [await client.get("/api/v1/jobs?limit=1", auth=c.agent) for c in callers]
    assert all(a.status_code == 200 for a in answers), [a.text for a in answers]
    return [a.json()["_meta"]["count"] for a in answers]


async def _scanned(client: httpx.AsyncClient) -> int:
    """The same count taken by scanning: any `where` makes the list count its rows."""
    listed = await client.get("/api/v1/jobs?limit=1&where=name:conformance", headers=ADMIN)
    return int(listed.json()["_meta"]["count"])


async def test_counts_follow_creation_archive_purge_and_fold(
    client: httpx.AsyncClient, backend: Backend
) -> None:
    alice, bob = await agent(client, "alice"), await agent(client, "bob")
    w = await world(client, alice, bob)
    alices = [await job(client, alice, w) for _ in range(3)]
    for _ in range(2):
        await job(client, bob, w)
    assert await _counts(client, alice, bob) == [5, 3, 2]
    assert await _scanned(client) == 5

    gone = alices[0]
    deleted = await client.delete(
        f"/api/v1/jobs/{gone['id']}", headers={**ADMIN, "If-Match": gone["etag"]}
    )
    assert deleted.status_code == 204, deleted.text
    assert await _counts(client, alice, bob) == [4, 2, 2]
    assert (await client.post("/api/v1/jobs/purge", headers=ADMIN)).status_code == 204
    assert await _counts(client, alice, bob) == [4, 2, 2]

    # A paddles job has no team: only those who see everything count it.
    posted = await client.post("/paddles/runs/counted/jobs/", json={"job_id": "1"}, headers=ADMIN)
    assert posted.status_code == 200, posted.text
    assert await _counts(client, alice, bob) == [5, 2, 2]

    # The session's live server folds every 30 s too, so how many rows this call folds
    # depends on timing; what must hold is one row per team afterwards, with the same sums.
    async with backend.database.unit_of_work() as session:
        await fold(session, "jobs")
    async with backend.database.unit_of_work() as session:
        teams = select(func.count()).where(ROW_COUNTS.c.table_name == "jobs")
        assert (await session.execute(teams)).scalar_one() == 3  # alice, bob, no team
    assert await _counts(client, alice, bob) == [5, 2, 2]
    assert await _scanned(client) == 4

    # The unfiltered count is the deltas' sum, not a scan: a delta for bob shows at once.
    async with backend.database.unit_of_work() as session:
        await session.execute(
            insert(ROW_COUNTS).values(table_name="jobs", team_id=uuid.UUID(bob.team["id"]), delta=7)
        )
    assert await _counts(client, alice, bob) == [12, 2, 9]


async def test_concurrent_job_creations_are_all_counted(
    client: httpx.AsyncClient, live_server: LiveServer
) -> None:
    members = [await agent(client, f"busy-{i}") for i in range(4)]
    w = await world(client, *members)

    async def create_jobs(member: Member) -> None:
        # Its own connection per remoteci: concurrent clients, as agents would be.
        async with httpx.AsyncClient(base_url=live_server.url, timeout=60) as http:
            for _ in range(10):
                await job(http, member, w)

    # A group: when one remoteci fails, the others stop instead of posting into the next test.
    async with asyncio.TaskGroup() as creating:
        for member in members:
            creating.create_task(create_jobs(member))
    assert await _counts(client, *members) == [40, 10, 10, 10, 10]
    assert await _scanned(client) == 40
