"""Builders of a small DCI world over the public API: a product and its topic with components,
teams with a user and a remoteci each, and signed (HMAC) clients for remotecis."""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

import httpx
from dciauth.v2.headers import generate_headers

from tests.conftest import ADMIN
from tests.helpers import create, team_with_user


class Signed(httpx.Auth):
    """DCI2-HMAC-SHA256 signatures, made with dciauth exactly as dciclient makes them."""

    requires_request_body = True

    def __init__(self, kind: str, agent_id: str, secret: str) -> None:
        self.access_key = f"{kind}/{agent_id}"
        self.secret = secret

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        signed = generate_headers(
            {
                "method": request.method,
                "endpoint": request.url.path,
                "params": dict(parse_qsl(request.url.query.decode())),
                "host": request.url.netloc.decode(),
                "data": request.content,
            },
            {"access_key": self.access_key, "secret_key": self.secret},
        )
        request.headers.update(signed)
        yield request


@dataclass
class Member:
    """A team, one of its users (Basic headers) and one of its remotecis (signing auth)."""

    team: dict[str, Any]
    user: dict[str, str]
    remoteci: dict[str, Any]
    agent: Signed


@dataclass
class World:
    product: dict[str, Any]
    topic: dict[str, Any]
    components: dict[str, dict[str, Any]]


async def member(client: httpx.AsyncClient, name: str) -> Member:
    team, user = await team_with_user(client, f"team-{name}", f"user-{name}")
    remoteci = await create(client, "remotecis", {"name": f"rci-{name}", "team_id": team["id"]})
    return Member(team, user, remoteci, Signed("remoteci", remoteci["id"], remoteci["api_secret"]))


async def agent(client: httpx.AsyncClient, name: str) -> Member:
    """A team with a remoteci and no user (cheap: no password to hash)."""
    team = await create(client, "teams", {"name": f"team-{name}"})
    remoteci = await create(client, "remotecis", {"name": f"rci-{name}", "team_id": team["id"]})
    return Member(team, {}, remoteci, Signed("remoteci", remoteci["id"], remoteci["api_secret"]))


async def world(
    client: httpx.AsyncClient,
    *members: Member,
    types: tuple[str, ...] = ("ocp", "storage"),
    topic: str = "OCP-4.16",
) -> World:
    """A product its members may use, a topic of it needing `types`, one component per type."""
    product = await create(client, "products", {"name": f"product-{topic}"})
    for m in members:
        response = await client.post(
            f"/api/v1/products/{product['id']}/teams", json={"team_id": m.team["id"]}, headers=ADMIN
        )
        assert response.status_code == 201, response.text
    created = await create(
        client,
        "topics",
        {"name": topic, "product_id": product["id"], "component_types": list(types)},
    )
    components = {t: await component(client, created["id"], t, f"{t}-1.0") for t in types}
    return World(product, created, components)


async def component(
    client: httpx.AsyncClient, topic_id: str, ctype: str, name: str, **extra: Any
) -> dict[str, Any]:
    body = {"name": name, "type": ctype, "topic_id": topic_id, **extra}
    return await create(client, "components", body)


async def job(client: httpx.AsyncClient, owner: Member, w: World, **extra: Any) -> dict[str, Any]:
    """A job of the member's remoteci, created by the remoteci itself."""
    body = {
        "topic_id": w.topic["id"],
        "components": [c["id"] for c in w.components.values()],
        "name": "conformance",
        **extra,
    }
    response = await client.post("/api/v1/jobs", json=body, auth=owner.agent)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()["job"]
    return created
