"""The seed README's component type walk-through, request by request."""

from __future__ import annotations

import httpx

from tests.conftest import ADMIN
from tests.helpers import create


async def test_readme_etag_walkthrough(client: httpx.AsyncClient) -> None:
    created = await client.post("/api/v1/componenttypes", json={"name": "kikoolol"}, headers=ADMIN)
    assert created.status_code == 201
    etag = created.headers["ETag"]
    assert created.json()["componenttype"]["name"] == "kikoolol"
    assert created.json()["componenttype"]["etag"] == etag

    missing = await client.put(
        "/api/v1/componenttypes/kikoolol", json={"name": "kikoolol2"}, headers=ADMIN
    )
    assert missing.status_code == 412
    assert missing.json() == {
        "message": "'If-match' header must be provided",
        "payload": {},
        "status_code": 412,
    }

    updated = await client.put(
        "/api/v1/componenttypes/kikoolol",
        json={"name": "kikoolol2"},
        headers={**ADMIN, "If-match": etag},
    )
    assert updated.status_code == 200
    assert updated.headers["ETag"] != etag
    assert updated.json()["componenttype"]["name"] == "kikoolol2"

    stale = await client.put(
        "/api/v1/componenttypes/kikoolol2",
        json={"name": "kikoolol3"},
        headers={**ADMIN, "If-match": etag},
    )
    assert stale.status_code == 412
    assert stale.json()["status_code"] == 412
    shown = await client.get("/api/v1/componenttypes/kikoolol2", headers=ADMIN)
    assert shown.json()["componenttype"]["name"] == "kikoolol2"
    assert shown.headers["ETag"] == updated.headers["ETag"]


async def test_get_by_id_and_name_and_missing(client: httpx.AsyncClient) -> None:
    row = await create(client, "componenttypes", {"name": "rpm"})
    by_id = await client.get(f"/api/v1/componenttypes/{row['id']}", headers=ADMIN)
    by_name = await client.get("/api/v1/componenttypes/rpm", headers=ADMIN)
    assert by_id.json() == by_name.json() == {"componenttype": row}
    missing = await client.get("/api/v1/componenttypes/nope", headers=ADMIN)
    assert missing.status_code == 404
    assert missing.json() == {
        "status_code": 404,
        "message": "componenttype nope not found",
        "payload": {"id": "nope"},
    }


async def test_duplicate_name_is_conflict(client: httpx.AsyncClient) -> None:
    await create(client, "componenttypes", {"name": "rpm"})
    again = await client.post("/api/v1/componenttypes", json={"name": "rpm"}, headers=ADMIN)
    assert again.status_code == 409
    assert again.json()["message"] == "componenttype conflicts with an existing one"
    listed = await client.get("/api/v1/componenttypes", headers=ADMIN)
    assert listed.json()["_meta"]["count"] == 1


async def test_delete_archives_then_purge_removes(client: httpx.AsyncClient) -> None:
    row = await create(client, "componenttypes", {"name": "rpm"})
    no_etag = await client.delete(f"/api/v1/componenttypes/{row['id']}", headers=ADMIN)
    assert no_etag.status_code == 412
    deleted = await client.delete(
        f"/api/v1/componenttypes/{row['id']}", headers={**ADMIN, "If-Match": row["etag"]}
    )
    assert deleted.status_code == 204
    assert (
        await client.get(f"/api/v1/componenttypes/{row['id']}", headers=ADMIN)
    ).status_code == 404
    archived = (await client.get("/api/v1/componenttypes/purge", headers=ADMIN)).json()
    assert [r["id"] for r in archived["componenttypes"]] == [row["id"]]
    assert archived["componenttypes"][0]["state"] == "archived"
    purged = await client.post("/api/v1/componenttypes/purge", headers=ADMIN)
    assert purged.status_code == 204
    archived = (await client.get("/api/v1/componenttypes/purge", headers=ADMIN)).json()
    assert archived == {"componenttypes": [], "_meta": {"count": 0}}
    # The name is free again once purged.
    await create(client, "componenttypes", {"name": "rpm"})
