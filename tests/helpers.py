"""Small async builders over the public API, shared by the tests."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from tests.conftest import ADMIN, basic


async def create(
    client: httpx.AsyncClient,
    resource: str,
    body: dict[str, Any],
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    response = await client.post(f"/api/v1/{resource}", json=body, headers=headers or ADMIN)
    assert response.status_code == 201, response.text
    item: dict[str, Any] = next(iter(response.json().values()))
    return item


async def team_with_user(
    client: httpx.AsyncClient, team: str, user: str, *, reads_all: bool = False
) -> tuple[dict[str, Any], dict[str, str]]:
    """A team, and Basic headers of a member of it."""
    created = await create(client, "teams", {"name": team, "reads_all": reads_all})
    password = f"{user}-password"
    await create(
        client,
        "users",
        {
            "name": user,
            "email": f"{user}@example.org",
            "password": password,
            "team_ids": [created["id"]],
        },
    )
    return created, basic(user, password)


async def eventually(check: Callable[[], Awaitable[bool]], seconds: float = 5) -> None:
    """Wait until `check` holds; fail when it does not within `seconds`."""
    started = time.monotonic()
    while not await check():
        assert time.monotonic() - started < seconds, f"not so within {seconds} s"
        await asyncio.sleep(0.005)
