"""Team scoping of teams, users and agents; who may write what."""

from __future__ import annotations

import httpx

from tests.conftest import ADMIN
from tests.helpers import create, team_with_user


async def test_members_see_only_their_teams_and_teammates(client: httpx.AsyncClient) -> None:
    red, rosa = await team_with_user(client, "red", "rosa")
    _blue, bleu = await team_with_user(client, "blue", "bleu")
    teams = (await client.get("/api/v1/teams", headers=rosa)).json()
    assert [t["name"] for t in teams["teams"]] == ["red"]
    assert teams["_meta"]["count"] == 1
    users = (await client.get("/api/v1/users?sort=name", headers=rosa)).json()
    assert [u["name"] for u in users["users"]] == ["rosa"]
    assert all("password_hash" not in u for u in users["users"])
    all_teams = (await client.get("/api/v1/teams?sort=name", headers=ADMIN)).json()
    assert [t["name"] for t in all_teams["teams"]] == ["admin", "blue", "red"]
    assert (await client.get(f"/api/v1/teams/{red['id']}", headers=bleu)).status_code == 404


async def test_remotecis_are_team_scoped_and_secrets_stay_in_the_team(
    client: httpx.AsyncClient,
) -> None:
    red, rosa = await team_with_user(client, "red", "rosa")
    blue, bleu = await team_with_user(client, "blue", "bleu")
    _readers, rita = await team_with_user(client, "readers", "rita", reads_all=True)
    lab = await create(client, "remotecis", {"name": "lab", "team_id": red["id"]}, rosa)
    assert (await client.get("/api/v1/remotecis", headers=bleu)).json()["_meta"]["count"] == 0
    assert (await client.get(f"/api/v1/remotecis/{lab['id']}", headers=bleu)).status_code == 404
    seen_by_reader = (
        await client.get(f"/api/v1/remotecis/{lab['id']}?embed=team", headers=rita)
    ).json()
    assert "api_secret" not in seen_by_reader["remoteci"]
    assert seen_by_reader["remoteci"]["team"]["name"] == "red"
    listed = (await client.get("/api/v1/remotecis", headers=rosa)).json()["remotecis"]
    assert "api_secret" not in listed[0]
    other_team = await client.post(
        "/api/v1/remotecis", json={"name": "x", "team_id": blue["id"]}, headers=rosa
    )
    assert other_team.status_code == 404
    by_reader = await client.post(
        "/api/v1/remotecis", json={"name": "x", "team_id": red["id"]}, headers=rita
    )
    assert by_reader.status_code == 403


async def test_only_super_admins_manage_teams_and_users(client: httpx.AsyncClient) -> None:
    red, rosa = await team_with_user(client, "red", "rosa")
    assert (await client.post("/api/v1/teams", json={"name": "x"}, headers=rosa)).status_code == 403
    body = {"name": "eve", "password": "long-enough", "team_ids": [red["id"]]}
    assert (await client.post("/api/v1/users", json=body, headers=rosa)).status_code == 403
    me = (await client.get("/api/v1/users/rosa", headers=rosa)).json()["user"]
    promote = await client.put(
        f"/api/v1/users/{me['id']}", json={"team_ids": []}, headers={**rosa, "If-Match": me["etag"]}
    )
    assert promote.status_code == 403
    renamed = await client.put(
        f"/api/v1/users/{me['id']}",
        json={"fullname": "Rosa R."},
        headers={**rosa, "If-Match": me["etag"]},
    )
    assert renamed.status_code == 200
    assert renamed.json()["user"]["fullname"] == "Rosa R."


async def test_user_with_unknown_team_is_400_and_not_created(client: httpx.AsyncClient) -> None:
    body = {
        "name": "eve",
        "password": "long-enough",
        "team_ids": ["00000000-0000-0000-0000-000000000000"],
    }
    response = await client.post("/api/v1/users", json=body, headers=ADMIN)
    assert response.status_code == 400
    assert "unknown team_ids" in response.json()["message"]
    assert (await client.get("/api/v1/users/eve", headers=ADMIN)).status_code == 404


async def test_a_repeated_list_request_keeps_each_callers_scope(client: httpx.AsyncClient) -> None:
    """List statements are remembered per caller and request: the same URL, asked again and
    again by callers of different teams, still answers each with their own rows, and a
    caller whose teams change is answered with the new scope at once."""
    red, rosa = await team_with_user(client, "red", "rosa")
    blue, bleu = await team_with_user(client, "blue", "bleu")
    for team, headers in ((red, rosa), (blue, bleu)):
        body = {"name": f"lab-{team['name']}", "team_id": team["id"]}
        await create(client, "remotecis", body, headers)
    url = "/api/v1/remotecis?sort=name&limit=10"

    async def names(headers: dict[str, str]) -> list[str]:
        listed = (await client.get(url, headers=headers)).json()
        assert listed["_meta"]["count"] == len(listed["remotecis"])
        return [r["name"] for r in listed["remotecis"]]

    for _ in range(3):
        assert await names(rosa) == ["lab-red"]
        assert await names(bleu) == ["lab-blue"]
        assert await names(ADMIN) == ["lab-blue", "lab-red"]
    user = (await client.get("/api/v1/users?where=name:rosa", headers=ADMIN)).json()["users"][0]
    moved = await client.put(
        f"/api/v1/users/{user['id']}",
        json={"team_ids": [red["id"], blue["id"]]},
        headers={**ADMIN, "If-Match": user["etag"]},
    )
    assert moved.status_code == 200, moved.text
    assert await names(rosa) == ["lab-blue", "lab-red"]
    assert await names(bleu) == ["lab-blue"]
