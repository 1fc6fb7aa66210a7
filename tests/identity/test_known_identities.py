"""Identities a process has read are trusted, without a query, until it hears of a change
(identity/changes.py): on PostgreSQL through LISTEN/NOTIFY and its own commits, on SQLite
through the database file's data version."""

from __future__ import annotations

import uuid
from collections.abc import Set

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import delete, insert, text

from aerodrome.db.changes import LISTENER_NAME, TableChanges
from aerodrome.db.metadata import metadata
from aerodrome.db.remembered import Remembered, TablesView
from aerodrome.identity.changes import IDENTITY_TABLES
from tests.conftest import Backend
from tests.helpers import (
    create,
    eventually,
    statements_reading,
    team_with_user,
    until_all_heard,
)
from tests.identity.test_authentication import _signed


async def _teams(client: httpx.AsyncClient, headers: dict[str, str]) -> list[str]:
    response = await client.get("/api/v1/identity", headers=headers)
    assert response.status_code == 200, response.text
    return [team["name"] for team in response.json()["identity"]["teams"].values()]


async def test_a_known_identity_costs_no_query(
    backend: Backend, started_app: FastAPI, client: httpx.AsyncClient
) -> None:
    team, rosa = await team_with_user(client, "red", "rosa")
    remoteci = await create(client, "remotecis", {"name": "lab-1", "team_id": team["id"]}, rosa)
    await until_all_heard(started_app)
    assert await _teams(client, rosa) == ["red"]
    signed = _signed("GET", "/api/v1/identity", remoteci)
    assert (await client.get("/api/v1/identity", headers=signed)).status_code == 200
    with (
        statements_reading(started_app, "users") as user_reads,
        statements_reading(started_app, "remotecis") as agent_reads,
    ):
        for _ in range(5):
            assert await _teams(client, rosa) == ["red"]
            assert (await client.get("/api/v1/identity", headers=signed)).status_code == 200
    assert (len(user_reads), len(agent_reads)) == (0, 0)


async def test_a_change_made_elsewhere_is_seen(backend: Backend, client: httpx.AsyncClient) -> None:
    """A change committed by another connection (another server, the CLI, plain SQL)."""
    team, rosa = await team_with_user(client, "red", "rosa")
    assert await _teams(client, rosa) == ["red"]
    memberships = metadata.tables["memberships"]
    async with backend.database.unit_of_work() as session:
        team_id = uuid.UUID(team["id"])
        await session.execute(delete(memberships).where(memberships.c.team_id == team_id))
    await eventually(lambda: _has_teams(client, rosa, []), seconds=2)


async def test_the_listener_comes_back_after_losing_its_connection(
    backend: Backend, started_app: FastAPI, client: httpx.AsyncClient
) -> None:
    health = (await client.get("/healthz")).json()
    assert health["identity_changes"] == "listening"
    if backend.name == "sqlite":
        pytest.skip("SQLite has no listener: the file's data version is read at every check")
    changes: TablesView = started_app.state.known_identities.changes
    async with backend.database.unit_of_work() as session:
        killed = await session.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE application_name = :name AND datname = current_database()"
            ),
            {"name": LISTENER_NAME},
        )
        # Live servers of other tests on this database may listen too: they reconnect as well.
        assert set(killed.scalars().all()) == {True}
    await eventually(lambda: _is(not changes.listening))
    await eventually(lambda: _is(changes.listening))
    # Listening again, it hears of changes again.
    _team, bea = await team_with_user(client, "blue", "bea")
    green = await create(client, "teams", {"name": "green"})
    me = (await client.get("/api/v1/identity", headers=bea)).json()["identity"]
    assert [team["name"] for team in me["teams"].values()] == ["blue"]
    memberships = metadata.tables["memberships"]
    async with backend.database.unit_of_work() as session:
        joined = {"user_id": uuid.UUID(me["id"]), "team_id": uuid.UUID(green["id"])}
        await session.execute(insert(memberships).values(joined))
    await eventually(lambda: _has_teams(client, bea, ["blue", "green"]), seconds=2)


async def _has_teams(client: httpx.AsyncClient, headers: dict[str, str], names: list[str]) -> bool:
    return sorted(await _teams(client, headers)) == names


async def _is(value: bool) -> bool:
    return value


def test_a_value_read_while_a_change_came_in_is_not_kept() -> None:
    tables = TableChanges()
    changes = TablesView(tables, IDENTITY_TABLES)
    known: Remembered[str, int] = Remembered(changes)
    known.put("k", 1, changes.generation)
    assert known.get("k") is None  # not listening: nothing is kept
    tables.set_listening(True)
    before = changes.generation
    tables.changed("users")  # arrives while the value is being read
    known.put("k", 1, before)
    assert known.get("k") is None
    known.put("k", 2, changes.generation)
    assert known.get("k") == 2
    tables.committed({"jobs", "runs"})
    assert known.get("k") == 2
    tables.committed({"jobs", "memberships"})
    assert known.get("k") is None
    known.put("k", 3, changes.generation)
    tables.set_listening(False)
    tables.set_listening(True)
    assert known.get("k") is None  # what was read before the connection was lost


async def test_a_unit_of_work_reports_the_tables_it_wrote_once_committed(
    backend: Backend,
) -> None:
    database = backend.database
    reported: list[Set[str]] = []
    database.after_commit.append(reported.append)
    teams = metadata.tables["teams"]
    try:
        async with database.unit_of_work(write=False) as session:
            await session.execute(teams.select())
        try:
            async with database.unit_of_work() as session:
                await session.execute(insert(teams).values(name="rolled-back"))
                raise RuntimeError("roll back")
        except RuntimeError:
            pass
        assert reported == []
        async with database.unit_of_work() as session:
            await session.execute(insert(teams).values(name="kept"))
        assert reported == [{"teams"}]
    finally:
        database.after_commit.remove(reported.append)
