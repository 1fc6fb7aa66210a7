"""Components: the README's fields, `componenttype` by id or name, list parameters, scoping."""

from __future__ import annotations

from typing import Any

import httpx

from tests.conftest import ADMIN
from tests.helpers import create, team_with_user


async def _components(
    client: httpx.AsyncClient, query: str, headers: dict[str, str] = ADMIN
) -> dict[str, Any]:
    response = await client.get(f"/api/v1/components?{query}", headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_create_with_componenttype_by_id_or_name(client: httpx.AsyncClient) -> None:
    ctype = await create(client, "componenttypes", {"name": "puddle"})
    by_name = await create(client, "components", {"name": "a", "componenttype": "puddle"})
    by_id = await create(client, "components", {"name": "b", "componenttype": ctype["id"]})
    assert by_name["type"] == by_id["type"] == "puddle"
    unknown = await client.post(
        "/api/v1/components", json={"name": "c", "componenttype": "nope"}, headers=ADMIN
    )
    assert unknown.status_code == 400
    assert unknown.json()["message"] == "unknown componenttype 'nope'"
    neither = await client.post("/api/v1/components", json={"name": "c"}, headers=ADMIN)
    assert neither.status_code == 400
    assert "either type or componenttype is required" in neither.json()["message"]


async def test_all_fields_round_trip(client: httpx.AsyncClient) -> None:
    body = {
        "name": "router",
        "type": "chart",
        "version": "v2.4.0",
        "train": "stable",
        "released_at": "2026-11-01T10:00:00+02:00",
        "data": {"sha": "abc", "nested": {"k": [1, 2]}},
        "tags": ["build:ga", "arch:x86_64"],
        "url": "https://example.org/router",
    }
    row = await create(client, "components", body)
    shown = (await client.get(f"/api/v1/components/{row['id']}", headers=ADMIN)).json()["component"]
    assert shown["released_at"] == "2026-11-01T08:00:00+00:00"
    for key in ("name", "type", "version", "train", "data", "tags", "url"):
        assert shown[key] == body[key]
    assert shown["state"] == "active"
    assert shown["team_id"] is None


async def test_readme_list_parameters(client: httpx.AsyncClient) -> None:
    for name, ctype in [("b", "rpm"), ("a", "rpm"), ("c", "rpm"), ("a", "git"), ("d", "git")]:
        await create(client, "components", {"name": name, "type": ctype, "version": name})
    body = await _components(client, "sort=type,-name&limit=2&offset=1&where=type:rpm")
    assert [c["name"] for c in body["components"]] == ["b", "a"]
    assert body["_meta"]["count"] == 3
    await create(client, "componenttypes", {"name": "rpm"})
    embedded = await _components(client, "where=name:a&embed=componenttype&sort=type")
    assert [
        (c["type"], (c["componenttype"] or {}).get("name")) for c in embedded["components"]
    ] == [
        ("git", None),
        ("rpm", "rpm"),
    ]


async def test_where_query_and_time_filters(client: httpx.AsyncClient) -> None:
    first = await create(client, "components", {"name": "ocp-4.14", "type": "ocp", "tags": ["ga"]})
    await create(client, "components", {"name": "ocp-4.15", "type": "ocp", "tags": ["nightly"]})
    await create(client, "components", {"name": "rhel-9", "type": "rhel", "url": None})
    assert (await _components(client, "where=name:ocp*"))["_meta"]["count"] == 2
    query = "query=and(eq(type,ocp),contains(tags,ga))"
    assert [c["name"] for c in (await _components(client, query))["components"]] == ["ocp-4.14"]
    assert (await _components(client, "where=url:"))["_meta"]["count"] == 3
    later = await _components(client, f"created_after={first['created_at']}".replace("+", "%2B"))
    assert {c["name"] for c in later["components"]} == {"ocp-4.15", "rhel-9"}


async def test_unknown_parameters_fields_sorts_and_embeds_are_400(
    client: httpx.AsyncClient,
) -> None:
    cases = {
        "colour=red": "unknown parameter colour",
        "sort=-colour": "unknown sort key 'colour'",
        "where=colour:red": "colour",
        "embed=colour": "unknown embed colour",
        "limit=0": "limit must be between 1 and 200",
        "limit=x": "limit must be an integer",
        "offset=-1": "offset must be between 0 and 2147483647",
        "query=eq(name": "",
        "created_after=yesterday": "created_after must be an ISO-8601 timestamp",
    }
    for query, expected in cases.items():
        response = await client.get(f"/api/v1/components?{query}", headers=ADMIN)
        assert response.status_code == 400, query
        body = response.json()
        assert body["status_code"] == 400
        assert expected in body["message"], (query, body)
    valid = (await client.get("/api/v1/components?colour=red", headers=ADMIN)).json()
    assert "where" in valid["payload"]["valid"]
    sort = (await client.get("/api/v1/components?sort=colour", headers=ADMIN)).json()
    assert "released_at" in sort["payload"]["valid"]
    assert (
        "team" in (await client.get("/api/v1/components?embed=x", headers=ADMIN)).json()["message"]
    )


async def test_team_components_are_private_to_the_team(client: httpx.AsyncClient) -> None:
    red, red_user = await team_with_user(client, "red", "rosa")
    _blue, blue_user = await team_with_user(client, "blue", "bleu")
    _readers, reader = await team_with_user(client, "readers", "rita", reads_all=True)
    public = await create(client, "components", {"name": "public", "type": "t"})
    private = await create(
        client, "components", {"name": "red-only", "type": "t", "team_id": red["id"]}, red_user
    )
    for headers, expected in [
        (red_user, {"public", "red-only"}),
        (blue_user, {"public"}),
        (reader, {"public", "red-only"}),
        (ADMIN, {"public", "red-only"}),
    ]:
        body = await _components(client, "embed=team", headers)
        assert {c["name"] for c in body["components"]} == expected
        assert body["_meta"]["count"] == len(expected)
    hidden = await client.get(f"/api/v1/components/{private['id']}", headers=blue_user)
    assert hidden.status_code == 404
    embedded = await client.get(f"/api/v1/components/{private['id']}?embed=team", headers=red_user)
    assert embedded.json()["component"]["team"]["name"] == "red"
    stolen = await client.post(
        "/api/v1/components",
        json={"name": "x", "type": "t", "team_id": red["id"]},
        headers=blue_user,
    )
    assert stolen.status_code == 403
    public_by_user = await client.post(
        "/api/v1/components", json={"name": "x", "type": "t"}, headers=blue_user
    )
    assert public_by_user.status_code == 403
    reader_write = await client.put(
        f"/api/v1/components/{public['id']}",
        json={"name": "y"},
        headers={**reader, "If-Match": public["etag"]},
    )
    assert reader_write.status_code == 403


async def test_count_past_the_last_page(client: httpx.AsyncClient) -> None:
    for name in ("a", "b", "c"):
        await create(client, "components", {"name": name, "type": "t"})
    body = await _components(client, "limit=2&offset=5")
    assert body == {"components": [], "_meta": {"count": 3}}
    body = await _components(client, "limit=2&offset=2")
    assert ([c["name"] for c in body["components"]], body["_meta"]["count"]) == (["a"], 3)


async def test_integers_beyond_64_bits_in_data_come_back_intact(
    client: httpx.AsyncClient,
) -> None:
    data = {"big": 2**70, "negative": -(2**65), "exact": 2**63 - 1, "ratio": 0.1}
    created = await create(client, "components", {"name": "huge", "type": "t", "data": data})
    shown = await client.get(f"/api/v1/components/{created['id']}", headers=ADMIN)
    listed = await client.get("/api/v1/components?where=name:huge", headers=ADMIN)
    assert shown.json()["component"]["data"] == data
    assert listed.json()["components"][0]["data"] == data
