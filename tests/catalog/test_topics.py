"""Topics: ordered component types, next topic, who may publish them, their components, and
the teams a product's topics are open to."""

from __future__ import annotations

from typing import Any

import httpx

from tests.conftest import ADMIN
from tests.helpers import create, team_with_user
from tests.work.factories import Signed


async def _ok(response: httpx.Response, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_topic_fields_round_trip(client: httpx.AsyncClient) -> None:
    product = await create(client, "products", {"name": "OpenShift"})
    nxt = await create(client, "topics", {"name": "OCP-4.17", "product_id": product["id"]})
    body = {
        "name": "OCP-4.16",
        "product_id": product["id"],
        "component_types": ["ocp", "storage", "cnv"],
        "next_topic_id": nxt["id"],
        "export_control": True,
        "data": {"pull_secret": {"auths": {}}},
    }
    topic = await create(client, "topics", body)
    shown = (await _ok(await client.get("/api/v1/topics/OCP-4.16?embed=product", headers=ADMIN)))[
        "topic"
    ]
    for key in ("component_types", "export_control", "data", "name"):
        assert shown[key] == body[key]
    assert shown["next_topic_id"] == nxt["id"]
    assert shown["product"]["name"] == "OpenShift"
    listed = await _ok(
        await client.get("/api/v1/topics?where=state:active&sort=name", headers=ADMIN)
    )
    assert [t["name"] for t in listed["topics"]] == ["OCP-4.16", "OCP-4.17"]
    unknown = await client.post(
        "/api/v1/topics", json={"name": "x", "product_id": topic["id"]}, headers=ADMIN
    )
    assert unknown.status_code == 400
    assert "unknown product_id" in unknown.json()["message"]
    itself = await client.put(
        f"/api/v1/topics/{topic['id']}",
        json={"next_topic_id": topic["id"]},
        headers={**ADMIN, "If-Match": topic["etag"]},
    )
    assert itself.status_code == 400


async def test_product_owners_publish_topics_and_components(client: httpx.AsyncClient) -> None:
    owners, owner = await team_with_user(client, "owners", "owner")
    _, stranger = await team_with_user(client, "strangers", "stranger")
    product = await create(client, "products", {"name": "RHEL", "team_id": owners["id"]})
    topic = await create(
        client, "topics", {"name": "RHEL-9.4", "product_id": product["id"]}, headers=owner
    )
    refused = await client.post(
        "/api/v1/topics", json={"name": "RHEL-10", "product_id": product["id"]}, headers=stranger
    )
    assert refused.status_code == 403
    no_product = await client.post("/api/v1/topics", json={"name": "loose"}, headers=owner)
    assert no_product.status_code == 403
    body = {"display_name": "rhel-9.4-nightly", "type": "compose", "topic_id": topic["id"]}
    published = await create(client, "components", body, headers=owner)
    assert published["name"] == "rhel-9.4-nightly"
    assert published["topic_id"] == topic["id"]
    stranger_component = await client.post("/api/v1/components", json=body, headers=stranger)
    assert stranger_component.status_code == 403


async def test_topic_components_show_public_and_own_private(client: httpx.AsyncClient) -> None:
    alpha, alice = await team_with_user(client, "alpha", "alice")
    _, bob = await team_with_user(client, "beta", "bob")
    topic = await create(client, "topics", {"name": "T", "component_types": ["ocp"]})
    other = await create(client, "topics", {"name": "U"})
    await create(client, "components", {"name": "public", "type": "ocp", "topic_id": topic["id"]})
    await create(
        client,
        "components",
        {"name": "private", "type": "ocp", "topic_id": topic["id"], "team_id": alpha["id"]},
        headers=alice,
    )
    await create(
        client, "components", {"name": "elsewhere", "type": "ocp", "topic_id": other["id"]}
    )
    url = f"/api/v1/topics/{topic['id']}/components?sort=name"
    for headers, names in (
        (alice, ["private", "public"]),
        (bob, ["public"]),
        (ADMIN, ["private", "public"]),
    ):
        body = await _ok(await client.get(url, headers=headers))
        assert [c["name"] for c in body["components"]] == names
        assert body["_meta"]["count"] == len(names)
    where = await _ok(await client.get(f"{url}&where=name:pub*", headers=alice))
    assert where["_meta"]["count"] == 1
    missing = await client.get("/api/v1/topics/nope/components", headers=ADMIN)
    assert missing.status_code == 404
    bad_topic = await client.post(
        "/api/v1/components",
        json={"name": "x", "type": "ocp", "topic_id": alpha["id"]},
        headers=ADMIN,
    )
    assert bad_topic.status_code == 400


async def test_team_product_access(client: httpx.AsyncClient) -> None:
    owners, owner = await team_with_user(client, "owners", "owner")
    partner, partner_user = await team_with_user(client, "partner", "partner")
    product = await create(client, "products", {"name": "OCP", "team_id": owners["id"]})
    url = f"/api/v1/products/{product['id']}/teams"
    added = await client.post(url, json={"team_id": partner["id"]}, headers=owner)
    assert added.status_code == 201, added.text
    again = await client.post(url, json={"team_id": partner["id"]}, headers=owner)
    assert again.status_code == 409
    refused = await client.post(url, json={"team_id": partner["id"]}, headers=partner_user)
    assert refused.status_code == 403
    listed = await _ok(await client.get(url, headers=ADMIN))
    assert [t["name"] for t in listed["teams"]] == ["partner"]
    assert listed["_meta"]["count"] == 1
    assert (await client.delete(f"{url}/{partner['id']}", headers=owner)).status_code == 204
    assert (await client.delete(f"{url}/{partner['id']}", headers=owner)).status_code == 404
    assert (await _ok(await client.get(url, headers=ADMIN)))["_meta"]["count"] == 0


async def test_a_feeder_publishes_topics_and_components_with_its_secret(
    client: httpx.AsyncClient,
) -> None:
    owners, owner = await team_with_user(client, "owners", "owner")
    feeder = await create(client, "feeders", {"name": "puddle", "team_id": owners["id"]}, owner)
    signed = Signed("feeder", feeder["id"], feeder["api_secret"])
    topic = await client.post(
        "/api/v1/topics", json={"name": "RHEL-10", "component_types": ["compose"]}, auth=signed
    )
    assert topic.status_code == 201, topic.text
    body = {
        "name": "RHEL-10.0-20261125.n.0",
        "type": "compose",
        "topic_id": topic.json()["topic"]["id"],
    }
    published = await client.post("/api/v1/components", json=body, auth=signed)
    assert published.status_code == 201, published.text
    wrong = Signed("feeder", feeder["id"], "not-the-secret")
    refused = await client.post("/api/v1/components", json=body, auth=wrong)
    assert refused.status_code == 401
