"""GET answers kept in memory until a table they were read from changes (api/response_cache.py).

The application hears of changes (db/changes.py) and keeps answers on both databases; every
test checks that an answer given again is the one the database would give now."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import update

from aerodrome.api.response_cache import KeptAnswer, ResponseCache
from aerodrome.db.changes import TableChanges
from aerodrome.db.metadata import metadata
from tests.conftest import ADMIN, Backend, LiveServer, basic
from tests.helpers import (
    commit_elsewhere,
    create,
    eventually,
    statements_reading,
    team_with_user,
    until_all_heard,
)
from tests.identity.test_authentication import _signed


def _cache(app: FastAPI) -> ResponseCache:
    cache: ResponseCache = app.state.response_cache
    return cache


async def _names(client: httpx.AsyncClient, url: str, headers: dict[str, str]) -> list[str]:
    response = await client.get(url, headers=headers)
    assert response.status_code == 200, response.text
    return [row["name"] for row in response.json()["components"]]


async def test_a_repeated_read_is_answered_from_memory_until_a_write(
    backend: Backend, app: FastAPI, client: httpx.AsyncClient
) -> None:
    cache = _cache(app)
    assert cache.active
    await create(client, "components", {"name": "a", "type": "t"})
    await until_all_heard(app)  # a notification arriving later would make the answer stale
    url = "/api/v1/components?sort=name&where=type:t"
    first = await client.get(url, headers=ADMIN)
    hits = cache.hits
    second = await client.get(url, headers=ADMIN)
    assert second.content == first.content
    assert second.headers["content-type"] == first.headers["content-type"]
    assert cache.hits == hits + 1
    await create(client, "components", {"name": "b", "type": "t"})
    assert await _names(client, url, ADMIN) == ["a", "b"]
    # A HEAD is kept apart from the GET: it has no body.
    head = await client.head("/paddles/runs/", headers=ADMIN)
    assert head.status_code == 200
    assert head.content == b""


async def test_a_change_committed_by_another_process_is_seen(
    backend: Backend, client: httpx.AsyncClient
) -> None:
    row = await create(client, "components", {"name": "before", "type": "t"})
    url = f"/api/v1/components/{row['id']}"
    for _ in range(2):
        assert (await client.get(url, headers=ADMIN)).json()["component"]["name"] == "before"
    components = metadata.tables["components"]
    renamed = update(components).where(components.c.id == uuid.UUID(row["id"]))
    await commit_elsewhere(backend, renamed.values(name="after"))

    async def renamed_seen() -> bool:
        shown = (await client.get(url, headers=ADMIN)).json()["component"]
        return bool(shown["name"] == "after")

    await eventually(renamed_seen, seconds=2)


async def test_callers_never_get_each_others_answers(client: httpx.AsyncClient) -> None:
    red, red_user = await team_with_user(client, "red", "rosa")
    _blue, blue_user = await team_with_user(client, "blue", "bea")
    await create(client, "components", {"name": "public", "type": "t"})
    await create(client, "components", {"name": "red-only", "type": "t", "team_id": red["id"]})
    url = "/api/v1/components?sort=name"
    for _ in range(3):
        assert await _names(client, url, blue_user) == ["public"]
        assert await _names(client, url, red_user) == ["public", "red-only"]
        assert await _names(client, url, ADMIN) == ["public", "red-only"]
    # Another password of the same user is another key, and is refused.
    wrong = await client.get(url, headers=basic("rosa", "not-her-password"))
    assert wrong.status_code == 401


async def test_a_credential_that_stopped_working_is_never_answered_from_memory(
    backend: Backend, client: httpx.AsyncClient
) -> None:
    _team, rosa = await team_with_user(client, "red", "rosa")
    await create(client, "components", {"name": "a", "type": "t"})
    url = "/api/v1/components"
    # Known first, so that the kept answer's own requests do not read the users table.
    user = (await client.get("/api/v1/identity", headers=rosa)).json()["identity"]
    for _ in range(2):
        assert (await client.get(url, headers=rosa)).status_code == 200
    users = metadata.tables["users"]
    archived = update(users).where(users.c.id == uuid.UUID(user["id"]))
    await commit_elsewhere(backend, archived.values(state="archived"))

    async def refused() -> bool:
        return (await client.get(url, headers=rosa)).status_code == 401

    await eventually(refused, seconds=2)


async def test_signed_and_bearer_requests_are_always_answered_afresh(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    team, rosa = await team_with_user(client, "red", "rosa")
    remoteci = await create(client, "remotecis", {"name": "rci", "team_id": team["id"]})
    token = (await client.post("/api/v1/tokens", json={"name": "t"}, headers=rosa)).json()
    bearer = {"Authorization": f"Bearer {token['token']['token']}"}
    cache = _cache(app)
    hits = cache.hits
    for _ in range(2):
        signed = _signed("GET", "/api/v1/components", remoteci)
        assert (await client.get("/api/v1/components", headers=signed)).status_code == 200
        assert (await client.get("/api/v1/components", headers=bearer)).status_code == 200
    assert cache.hits == hits
    listed = (await client.get("/api/v1/tokens", headers=rosa)).json()["tokens"]
    await client.delete(f"/api/v1/tokens/{listed[0]['id']}", headers=rosa)
    assert (await client.get("/api/v1/components", headers=bearer)).status_code == 401


async def test_only_routes_marked_keepable_are_kept(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    cache = _cache(app)
    entries = cache.statistics()["entries"]
    for _ in range(2):
        assert (await client.get("/api/v1/identity", headers=ADMIN)).status_code == 200
    assert cache.statistics()["entries"] == entries


async def test_an_answer_read_from_a_table_that_does_not_announce_changes_is_not_kept(
    backend: Backend, app: FastAPI, client: httpx.AsyncClient
) -> None:
    if backend.name == "sqlite":
        pytest.skip("on SQLite every table is heard of: any commit moves the data version")
    changes: TableChanges = _cache(app).changes
    assert "components" in changes.announcing
    await create(client, "components", {"name": "a", "type": "t"})
    announcing = changes.announcing
    changes.announcing = announcing - {"components"}
    try:
        hits = _cache(app).hits
        for _ in range(2):
            assert await _names(client, "/api/v1/components", ADMIN) == ["a"]
        assert _cache(app).hits == hits
    finally:
        changes.announcing = announcing


async def test_an_answer_larger_than_an_entry_may_be_is_not_kept(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    cache = _cache(app)
    await create(client, "components", {"name": "a" * 200, "type": "t"})
    limit = cache.max_entry_bytes
    cache.max_entry_bytes = 100
    try:
        hits = cache.hits
        for _ in range(2):
            assert await _names(client, "/api/v1/components", ADMIN) == ["a" * 200]
        assert cache.hits == hits
    finally:
        cache.max_entry_bytes = limit


async def test_paddles_run_answers_follow_job_writes(client: httpx.AsyncClient) -> None:
    name = "teuthology-2026-12-02_10:00:00-rados-main-distro-default-smithi"
    job = {"job_id": "1", "status": "running"}
    assert (await client.post(f"/paddles/runs/{name}/jobs/", json=job, headers=ADMIN)).is_success
    for _ in range(2):
        run = (await client.get(f"/paddles/runs/{name}/", headers=ADMIN)).json()
        assert run["status"] == "running"
        assert (await client.head(f"/paddles/runs/{name}/", headers=ADMIN)).status_code == 200
    done = {"status": "pass", "success": True}
    updated = await client.put(f"/paddles/runs/{name}/jobs/1/", json=done, headers=ADMIN)
    assert updated.is_success
    run = (await client.get(f"/paddles/runs/{name}/", headers=ADMIN)).json()
    assert (run["status"], run["results"]["pass"]) == ("finished pass", 1)
    assert (await client.delete(f"/paddles/runs/{name}/", headers=ADMIN)).is_success
    assert (await client.head(f"/paddles/runs/{name}/", headers=ADMIN)).status_code == 404
    assert (await client.get(f"/paddles/runs/{name}/", headers=ADMIN)).status_code == 404


async def test_clients_polling_a_stale_answer_wait_for_one_of_them_to_compute_it(
    backend: Backend, app: FastAPI, client: httpx.AsyncClient
) -> None:
    url = "/api/v1/components?where=type:t&sort=name"
    await create(client, "components", {"name": "a", "type": "t"})
    with statements_reading(app, "components") as once:
        assert await _names(client, url, ADMIN) == ["a"]
    await create(client, "components", {"name": "b", "type": "t"})  # now stale
    await until_all_heard(app)
    with statements_reading(app, "components") as twenty:
        answers = await asyncio.gather(*(_names(client, url, ADMIN) for _ in range(20)))
    assert answers == [["a", "b"]] * 20
    assert len(twenty) == len(once)


async def test_concurrent_writers_read_their_own_writes(
    live_server: LiveServer, client: httpx.AsyncClient
) -> None:
    """Twenty clients each rename their component and read it back, on a real server, over
    and over, while all of them also read the whole list: no read ever misses a write
    answered before it."""
    rows = [await create(client, "components", {"name": f"c{i}-0", "type": "t"}) for i in range(20)]

    async def rename_and_read(row: dict[str, Any]) -> None:
        etag = row["etag"]
        url = f"/api/v1/components/{row['id']}"
        async with httpx.AsyncClient(base_url=live_server.url, timeout=30) as http:
            for round_ in range(1, 11):
                name = f"{row['name'][:-2]}-{round_}"
                headers = {**ADMIN, "If-Match": etag}
                changed = await http.put(url, json={"name": name}, headers=headers)
                assert changed.status_code == 200, changed.text
                etag = changed.json()["component"]["etag"]
                shown = (await http.get(url, headers=ADMIN)).json()["component"]
                assert (shown["name"], shown["etag"]) == (name, etag)
                listed = await _names(http, "/api/v1/components?limit=100", ADMIN)
                assert name in listed

    await asyncio.gather(*(rename_and_read(row) for row in rows))


def test_the_least_recently_used_answers_go_first_when_memory_is_full() -> None:
    changes = TableChanges()
    changes.set_listening(True)
    cache = ResponseCache(changes, max_bytes=3 * (1000 + 512))
    generation = changes.generation(("t",))
    assert generation is not None

    def answer() -> KeptAnswer:
        return KeptAnswer(None, ("t",), generation, [], b"x" * 1000, compressible=False)

    for key in ("a", "b", "c"):
        cache.put((key,), answer())
    assert cache.get(("a",)) is not None  # now the most recently used
    cache.put(("d",), answer())
    assert cache.get(("b",)) is None
    assert all(cache.get((key,)) is not None for key in ("a", "c", "d"))
    assert cache.statistics()["bytes"] == 3 * (1000 + 512)
    changes.changed("t")
    assert cache.get(("a",)) is None
