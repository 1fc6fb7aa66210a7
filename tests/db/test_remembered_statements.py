"""Statements remembered per caller: a caller never runs a statement built for another
caller's scope, although the related keys themselves are parameters."""

from __future__ import annotations

import uuid

import httpx

from aerodrome.db import resources as rows
from aerodrome.identity import access
from aerodrome.identity.principal import Identity, TeamRef
from aerodrome.identity.service import REMOTECIS
from tests.conftest import Backend
from tests.helpers import create


async def test_an_embed_uses_the_scope_of_its_own_caller(
    client: httpx.AsyncClient, backend: Backend
) -> None:
    red = await create(client, "teams", {"name": "red"})
    blue = await create(client, "teams", {"name": "blue"})
    lab = await create(client, "remotecis", {"name": "lab", "team_id": blue["id"]})
    admin = Identity(kind="user", id=uuid.uuid4(), name="boss", is_super_admin=True)
    rosa = Identity(
        kind="user", id=uuid.uuid4(), name="rosa", teams=(TeamRef(uuid.UUID(red["id"]), "red"),)
    )

    async def embedded_team(identity: Identity) -> object:
        # The same rows for both callers, so that only the scope can tell them apart.
        found = [{"id": uuid.UUID(lab["id"]), "team_id": uuid.UUID(blue["id"])}]
        async with backend.database.unit_of_work(write=False) as session:
            await rows.embed_relations(
                session,
                REMOTECIS,
                found,
                ["team"],
                access.scope_for(identity),
                scope_key=(access.scope_for, identity),
            )
        return found[0]["team"]

    for _ in range(2):
        seen_by_admin = await embedded_team(admin)
        assert isinstance(seen_by_admin, dict)
        assert seen_by_admin["name"] == "blue"
        assert await embedded_team(rosa) is None  # blue is not rosa's team
