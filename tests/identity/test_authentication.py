"""Basic (name or e-mail), bearer tokens and DCI HMAC signatures, through the HTTP API."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from typing import Any
from unittest import mock

import httpx
import pytest
from dciauth.v2.headers import generate_headers

from aerodrome.identity import passwords
from aerodrome.identity import service as identity_service
from tests.conftest import ADMIN, basic
from tests.helpers import create, team_with_user


async def _identity(client: httpx.AsyncClient, headers: dict[str, str]) -> dict[str, Any]:
    response = await client.get("/api/v1/identity", headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()["identity"]
    return body


async def test_admin_identity(client: httpx.AsyncClient) -> None:
    me = await _identity(client, ADMIN)
    assert me["name"] == "admin"
    assert me["type"] == "user"
    assert me["is_super_admin"] is True
    assert [t["name"] for t in me["teams"].values()] == ["admin"]


async def test_basic_by_name_or_email(client: httpx.AsyncClient) -> None:
    team, headers = await team_with_user(client, "red", "rosa")
    by_email = basic("rosa@example.org", "rosa-password")
    for credentials in (headers, by_email):
        me = await _identity(client, credentials)
        assert me["name"] == "rosa"
        assert me["is_super_admin"] is False
        assert me["teams"] == {team["id"]: {"id": team["id"], "name": "red"}}
    wrong = await client.get("/api/v1/identity", headers=basic("rosa", "nope"))
    assert wrong.status_code == 401


async def test_verified_password_is_not_hashed_again(client: httpx.AsyncClient) -> None:
    await team_with_user(client, "red", "rosa")
    headers = basic("rosa", "rosa-password")
    await _identity(client, headers)
    with mock.patch.object(
        identity_service, "verify_password", side_effect=AssertionError("hashed")
    ):
        for _ in range(3):
            await _identity(client, headers)


async def test_password_change_invalidates_remembered_credential(client: httpx.AsyncClient) -> None:
    await team_with_user(client, "red", "rosa")
    old = basic("rosa", "rosa-password")
    await _identity(client, old)
    user = (await client.get("/api/v1/users/rosa", headers=ADMIN)).json()["user"]
    changed = await client.put(
        f"/api/v1/users/{user['id']}",
        json={"password": "a-new-password"},
        headers={**old, "If-Match": user["etag"]},
    )
    assert changed.status_code == 200, changed.text
    assert "password_hash" not in changed.json()["user"]
    assert (await client.get("/api/v1/identity", headers=old)).status_code == 401
    await _identity(client, basic("rosa", "a-new-password"))


async def test_archived_user_cannot_authenticate(client: httpx.AsyncClient) -> None:
    await team_with_user(client, "red", "rosa")
    headers = basic("rosa", "rosa-password")
    await _identity(client, headers)
    user = (await client.get("/api/v1/users/rosa", headers=ADMIN)).json()["user"]
    await client.delete(f"/api/v1/users/{user['id']}", headers={**ADMIN, "If-Match": user["etag"]})
    assert (await client.get("/api/v1/identity", headers=headers)).status_code == 401


async def test_bearer_tokens(client: httpx.AsyncClient) -> None:
    await team_with_user(client, "red", "rosa")
    rosa = basic("rosa", "rosa-password")
    created = await client.post("/api/v1/tokens", json={"name": "laptop"}, headers=rosa)
    assert created.status_code == 201
    token = created.json()["token"]["token"]
    bearer = {"Authorization": f"Bearer {token}"}
    assert (await _identity(client, bearer))["name"] == "rosa"
    listed = (await client.get("/api/v1/tokens", headers=rosa)).json()["tokens"]
    assert [t["name"] for t in listed] == ["laptop"]
    assert "token" not in listed[0]
    assert "token_hash" not in listed[0]
    revoked = await client.delete(f"/api/v1/tokens/{listed[0]['id']}", headers=rosa)
    assert revoked.status_code == 204
    refused = await client.get("/api/v1/identity", headers=bearer)
    assert refused.status_code == 401
    assert refused.json()["message"] == "invalid or expired token"
    unknown = await client.get("/api/v1/identity", headers={"Authorization": "Bearer adt_nope"})
    assert unknown.status_code == 401


def _signed(
    method: str,
    path: str,
    agent: dict[str, Any],
    *,
    kind: str = "remoteci",
    params: dict[str, str] | None = None,
    body: Any = None,
    secret: str | None = None,
    when: datetime | None = None,
) -> dict[str, str]:
    """Headers exactly as dciclient's dciauth would sign this request."""
    request: dict[str, Any] = {
        "method": method,
        "endpoint": path,
        "params": params or {},
        "data": json.dumps(body) if body is not None else "",
        "host": "testserver",
    }
    if when is not None:
        request["timestamp"] = when.strftime("%Y%m%dT%H%M%SZ")
        request["datestamp"] = when.strftime("%Y%m%d")
    credentials = {
        "access_key": f"{kind}/{agent['id']}",
        "secret_key": secret or agent["api_secret"],
    }
    headers: dict[str, str] = generate_headers(request, credentials)
    return {**headers, "Content-Type": "application/json"}


async def _remoteci(client: httpx.AsyncClient) -> tuple[dict[str, Any], dict[str, Any]]:
    team, rosa = await team_with_user(client, "red", "rosa")
    remoteci = await create(client, "remotecis", {"name": "lab-1", "team_id": team["id"]}, rosa)
    return team, remoteci


async def test_remoteci_signature(client: httpx.AsyncClient) -> None:
    team, remoteci = await _remoteci(client)
    assert len(remoteci["api_secret"]) > 40
    params = {"where": "name:lab*", "sort": "-created_at", "limit": "10"}
    headers = _signed("GET", "/api/v1/identity", remoteci, params=params)
    response = await client.get("/api/v1/identity", params=params, headers=headers)
    assert response.status_code == 200, response.text
    me = response.json()["identity"]
    assert (me["type"], me["name"], me["teams"]) == (
        "remoteci",
        "lab-1",
        {team["id"]: {"id": team["id"], "name": "red"}},
    )


async def test_signed_write_with_body(client: httpx.AsyncClient) -> None:
    team, remoteci = await _remoteci(client)
    body = {"name": "private-build", "type": "rpm", "team_id": team["id"]}
    headers = _signed("POST", "/api/v1/components", remoteci, body=body)
    response = await client.post("/api/v1/components", content=json.dumps(body), headers=headers)
    assert response.status_code == 201, response.text


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"secret": "wrong"}, "invalid signature"),
        ({"when": datetime.now(UTC) - timedelta(minutes=16)}, "invalid signature"),
        ({"path": "/api/v1/teams"}, "invalid signature"),
    ],
)
async def test_bad_signatures_are_401(
    client: httpx.AsyncClient, change: dict[str, Any], message: str
) -> None:
    _team, remoteci = await _remoteci(client)
    change = dict(change)  # the parameter is shared by both backends' runs
    signed_path = change.pop("path", "/api/v1/identity")
    headers = _signed("GET", signed_path, remoteci, **change)
    response = await client.get("/api/v1/identity", headers=headers)
    assert response.status_code == 401
    assert message in response.json()["message"]


async def test_signature_within_clock_skew_passes(client: httpx.AsyncClient) -> None:
    _team, remoteci = await _remoteci(client)
    headers = _signed(
        "GET", "/api/v1/identity", remoteci, when=datetime.now(UTC) - timedelta(minutes=14)
    )
    assert (await client.get("/api/v1/identity", headers=headers)).status_code == 200


async def test_reset_secret_invalidates_old_one(client: httpx.AsyncClient) -> None:
    _team, remoteci = await _remoteci(client)
    signed = _signed("GET", "/api/v1/identity", remoteci)
    assert (await client.get("/api/v1/identity", headers=signed)).status_code == 200
    rosa = basic("rosa", "rosa-password")
    reset = await client.put(
        f"/api/v1/remotecis/{remoteci['id']}/api_secret",
        headers={**rosa, "If-Match": remoteci["etag"]},
    )
    assert reset.status_code == 200
    new_secret = reset.json()["remoteci"]["api_secret"]
    assert new_secret != remoteci["api_secret"]
    old = _signed("GET", "/api/v1/identity", remoteci)
    assert (await client.get("/api/v1/identity", headers=old)).status_code == 401
    fresh = _signed("GET", "/api/v1/identity", remoteci, secret=new_secret)
    assert (await client.get("/api/v1/identity", headers=fresh)).status_code == 200


async def test_feeder_signature(client: httpx.AsyncClient) -> None:
    team, rosa = await team_with_user(client, "red", "rosa")
    feeder = await create(client, "feeders", {"name": "feeder-1", "team_id": team["id"]}, rosa)
    headers = _signed("GET", "/api/v1/identity", feeder, kind="feeder")
    me = (await client.get("/api/v1/identity", headers=headers)).json()["identity"]
    assert (me["type"], me["name"]) == ("feeder", "feeder-1")
    body = {"name": "ocp", "type": "ocp", "version": "4.15"}
    published = await client.post(
        "/api/v1/components",
        content=json.dumps(body),
        headers=_signed("POST", "/api/v1/components", feeder, kind="feeder", body=body),
    )
    assert published.status_code == 201, published.text


async def test_concurrent_first_logins_hash_once(client: httpx.AsyncClient) -> None:
    await team_with_user(client, "red", "rosa")
    calls = 0
    real = passwords.verify_password

    async def counting(password_hash: str, password: str) -> bool:
        nonlocal calls
        calls += 1
        return await real(password_hash, password)

    headers = basic("rosa", "rosa-password")
    with mock.patch.object(identity_service, "verify_password", counting):
        responses = await asyncio.gather(
            *(client.get("/api/v1/identity", headers=headers) for _ in range(10))
        )
    assert [r.status_code for r in responses] == [200] * 10
    assert calls == 1
