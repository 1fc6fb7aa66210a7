"""The NFSS API: OAuth-signed submissions (replays refused), projects, tests, date ranges."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import httpx

from tests.conftest import ADMIN, Backend
from tests.stats.helpers import client_key, signed, submit


async def test_signed_submission_is_stored_and_listed(
    backend: Backend, client: httpx.AsyncClient
) -> None:
    key = await client_key(backend)
    stored = await submit(client, "/nfss/api/v1/unity8/boot", {"seconds": 12.5}, key)
    assert stored.status_code == 201, stored.text
    point = stored.json()
    assert set(point) == {"id", "date_entered", "data"}
    assert point["data"] == {"seconds": 12.5}
    projects = (await client.get("/nfss/api/v1/", headers=ADMIN)).json()
    assert projects == {"projects": [{"name": "unity8", "tests": 1}]}
    for path in ("/nfss/api/v1/unity8/", "/nfss/api/v1/unity8"):
        tests = (await client.get(path, headers=ADMIN)).json()
        assert tests == {"project": "unity8", "tests": [{"name": "boot"}]}
    series = (await client.get("/nfss/api/v1/unity8/boot", headers=ADMIN)).json()
    assert series == {"data": [point]}


async def test_replayed_nonce_is_refused(backend: Backend, client: httpx.AsyncClient) -> None:
    key = await client_key(backend)
    uri, headers, body = signed("http://testserver/nfss/api/v1/p/t", {"v": 1}, key)
    first = await client.post(uri, content=body, headers=headers)
    assert first.status_code == 201
    replay = await client.post(uri, content=body, headers=headers)
    assert replay.status_code == 401
    assert replay.json()["message"] == "OAuth nonce already used: a replayed request is refused"
    series = (await client.get("/nfss/api/v1/p/t", headers=ADMIN)).json()["data"]
    assert len(series) == 1


async def test_bad_signatures_are_refused(backend: Backend, client: httpx.AsyncClient) -> None:
    key = await client_key(backend)
    path = "/nfss/api/v1/p/t"
    unsigned = await client.post(path, json={"v": 1})
    assert unsigned.status_code == 401
    assert "OAuth 1.0a signature" in unsigned.json()["message"]
    wrong_secret = await submit(client, path, {"v": 1}, {**key, "secret": "not-the-secret"})
    assert wrong_secret.status_code == 401
    unknown_key = await submit(client, path, {"v": 1}, {**key, "key": "x" * 30})
    assert unknown_key.status_code == 401
    stale = await submit(client, path, {"v": 1}, key, timestamp=str(int(time.time()) - 3600))
    assert stale.status_code == 401
    # Signed for another URL: the signature covers the path.
    _uri, headers, body = signed("http://testserver/nfss/api/v1/p/other", {"v": 1}, key)
    moved = await client.post(path, content=body, headers=headers)
    assert moved.status_code == 401
    assert (await client.get("/nfss/api/v1/", headers=ADMIN)).json() == {"projects": []}


async def test_bad_points_are_400(backend: Backend, client: httpx.AsyncClient) -> None:
    key = await client_key(backend)
    not_object = await submit(client, "/nfss/api/v1/p/t", [1, 2], key)
    assert not_object.status_code == 400
    assert not_object.json()["message"] == "a data point must be a JSON object"
    nul = await submit(client, "/nfss/api/v1/p/t", {"v": "a\u0000b"}, key)
    assert nul.status_code == 400
    bad_name = await client.get("/nfss/api/v1/p/te%20st", headers=ADMIN)
    assert bad_name.status_code == 400
    missing = await client.get("/nfss/api/v1/nope/", headers=ADMIN)
    assert missing.status_code == 404


async def test_date_range_and_default_last_30_days(
    backend: Backend, client: httpx.AsyncClient
) -> None:
    key = await client_key(backend)
    now = datetime.now(UTC)
    for days_ago in (40, 20, 1):
        when = (now - timedelta(days=days_ago)).isoformat()
        path = f"/nfss/api/v1/p/t?date_entered={when.replace('+', '%2B')}"
        assert (await submit(client, path, {"days_ago": days_ago}, key)).status_code == 201
    recent = (await client.get("/nfss/api/v1/p/t", headers=ADMIN)).json()["data"]
    assert [p["data"]["days_ago"] for p in recent] == [20, 1]
    start = (now - timedelta(days=50)).date().isoformat()
    end = (now - timedelta(days=10)).date().isoformat()
    ranged = await client.get(f"/nfss/api/v1/p/t?start_date={start}&end_date={end}", headers=ADMIN)
    assert [p["data"]["days_ago"] for p in ranged.json()["data"]] == [40, 20]
    naive = await client.get("/nfss/api/v1/p/t?start_date=2026-01-01T00:00:00", headers=ADMIN)
    assert naive.status_code == 400
    assert "has no time zone" in naive.json()["message"]
    backwards = await client.get(
        f"/nfss/api/v1/p/t?start_date={end}&end_date={start}", headers=ADMIN
    )
    assert backwards.status_code == 400
