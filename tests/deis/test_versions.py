"""The Deis versions API: publish (upsert), latest on a train, multi-get order, v2 default."""

from __future__ import annotations

from typing import Any

import httpx

from tests.conftest import ADMIN
from tests.helpers import team_with_user


def _release(name: str, train: str, version: str, released: str) -> dict[str, Any]:
    return {
        "component": {"name": name},
        "version": {"train": train, "version": version, "released": released, "data": {}},
    }


async def publish(
    client: httpx.AsyncClient, name: str, train: str, version: str, released: str
) -> dict[str, Any]:
    response = await client.post(
        f"/deis/v3/versions/{train}/{name}/{version}",
        json=_release(name, train, version, released),
        headers=ADMIN,
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_publish_then_get_and_latest(client: httpx.AsyncClient) -> None:
    await publish(client, "router", "stable", "v2.3.0", "2026-01-01T00:00:00Z")
    await publish(client, "router", "stable", "v2.4.0", "2026-02-01T00:00:00+01:00")
    await publish(client, "router", "beta", "v2.5.0-rc1", "2026-03-01T00:00:00Z")
    one = await client.get("/deis/v3/versions/stable/router/v2.3.0")
    assert one.status_code == 200
    assert one.json()["version"]["version"] == "v2.3.0"
    latest = (await client.get("/deis/v3/versions/stable/router/latest")).json()
    assert latest["version"] == {
        "train": "stable",
        "version": "v2.4.0",
        "released": "2026-01-31T23:00:00+00:00",
        "data": {},
    }
    listed = (await client.get("/deis/v3/versions/stable/router")).json()["data"]
    assert [r["version"]["version"] for r in listed] == ["v2.4.0", "v2.3.0"]
    native = await client.get(
        "/api/v1/components?where=name:router,train:stable&sort=-released_at", headers=ADMIN
    )
    assert [c["version"] for c in native.json()["components"]] == ["v2.4.0", "v2.3.0"]


async def test_publishing_twice_is_an_upsert(client: httpx.AsyncClient) -> None:
    await publish(client, "builder", "stable", "v1", "2026-01-01T00:00:00Z")
    await publish(client, "builder", "stable", "v1", "2026-01-05T00:00:00Z")
    native = await client.get("/api/v1/components?where=name:builder", headers=ADMIN)
    assert native.json()["_meta"]["count"] == 1
    assert native.json()["components"][0]["released_at"] == "2026-01-05T00:00:00+00:00"


async def test_publishing_needs_a_publisher(client: httpx.AsyncClient) -> None:
    body = _release("router", "stable", "v9", "2026-01-01T00:00:00Z")
    anonymous = await client.post("/deis/v3/versions/stable/router/v9", json=body)
    assert anonymous.status_code == 401
    assert anonymous.json() == {"code": 401, "message": "authentication required"}
    _, member = await team_with_user(client, "t", "bob")
    user = await client.post("/deis/v3/versions/stable/router/v9", json=body, headers=member)
    assert user.status_code == 403
    assert user.json()["code"] == 403


async def test_multi_get_answers_in_request_order(client: httpx.AsyncClient) -> None:
    await publish(client, "router", "stable", "v1", "2026-01-01T00:00:00Z")
    await publish(client, "builder", "stable", "v7", "2026-01-02T00:00:00Z")
    await publish(client, "controller", "stable", "v3", "2026-01-03T00:00:00Z")
    # Two releases at the same instant: the tie is broken by version, the same every time.
    await publish(client, "controller", "stable", "v4", "2026-01-03T00:00:00Z")
    asked = ["controller", "router", "missing", "builder"]
    body = {"data": [{"component": {"name": n}, "version": {"train": "stable"}} for n in asked]}
    response = await client.post("/deis/v3/versions/latest", json=body)
    assert response.status_code == 200, response.text
    found = [(r["component"]["name"], r["version"]["version"]) for r in response.json()["data"]]
    assert found == [("controller", "v4"), ("router", "v1"), ("builder", "v7")]


async def test_v2_multi_get_defaults_an_empty_train_to_beta(client: httpx.AsyncClient) -> None:
    await publish(client, "router", "beta", "v2-beta", "2026-01-01T00:00:00Z")
    await publish(client, "router", "stable", "v1", "2026-01-02T00:00:00Z")
    body = {"data": [{"component": {"name": "router"}, "version": {"train": ""}}]}
    v2 = (await client.post("/deis/v2/versions/latest", json=body)).json()["data"]
    assert [(r["version"]["train"], r["version"]["version"]) for r in v2] == [("beta", "v2-beta")]
    v3 = (await client.post("/deis/v3/versions/latest", json=body)).json()["data"]
    assert v3 == []


async def test_errors_are_deis_shaped(client: httpx.AsyncClient) -> None:
    missing = await client.get("/deis/v3/versions/stable/nothing/latest")
    assert missing.status_code == 404
    assert missing.json() == {
        "code": 404,
        "message": "no release latest of nothing on train stable",
    }
    bad = await client.post("/deis/v3/versions/latest", json={"data": [{"component": {}}]})
    assert bad.status_code == 400
    assert bad.json()["code"] == 400
    assert "component.name" in bad.json()["message"]
    not_json = await client.post(
        "/deis/v3/versions/latest", content=b"{", headers={"content-type": "application/json"}
    )
    assert not_json.status_code == 400
    unknown = await client.get("/deis/v3/nowhere")
    assert unknown.json() == {"code": 404, "message": "no Deis API route /v3/nowhere"}
    mismatch = await client.post(
        "/deis/v3/versions/stable/router/v1",
        json=_release("router", "stable", "v2", "2026-01-01T00:00:00Z"),
        headers=ADMIN,
    )
    assert mismatch.status_code == 400
    assert mismatch.json()["message"] == "body version 'v2' differs from the URL's 'v1'"
