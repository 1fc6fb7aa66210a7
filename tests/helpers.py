"""Small async builders over the public API, shared by the tests."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import Update, event, text

from aerodrome.db.changes import CHANNEL
from aerodrome.db.session import Database
from tests.conftest import ADMIN, Backend, basic


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


@contextmanager
def statements_reading(app: FastAPI, table: str) -> Iterator[list[str]]:
    """The SQL statements the application sends that read `table`, as they are sent."""
    seen: list[str] = []

    def note(*args: Any) -> None:
        statement = args[2]
        if f"FROM {table}" in statement:
            seen.append(statement)

    engine = app.state.database.engine.sync_engine
    event.listen(engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", note)


async def commit_elsewhere(backend: Backend, statement: Update) -> None:
    """Commit through an engine of its own, with no link to the application's: the application
    learns of it as of another process's change (notification, or SQLite's data version)."""
    elsewhere = Database(backend.settings)
    try:
        async with elsewhere.unit_of_work() as session:
            await session.execute(statement)
    finally:
        await elsewhere.dispose()


_MARKER = "aerodrome_test_marker"  # a channel payload no table has


async def until_all_heard(app: FastAPI) -> None:
    """Until the application has heard of every change committed before this call.

    PostgreSQL delivers the notifications of one channel in commit order, so once a marker
    sent now has arrived, so have all of those before it; one arriving later would rightly
    make a remembered read stale. SQLite reads its file's data version at every check:
    nothing is in flight."""
    database: Database = app.state.database
    if database.engine.dialect.name != "postgresql":
        return
    before = database.changes.generation([_MARKER])
    assert before is not None, "the application does not listen for changes"
    async with database.unit_of_work() as session:
        notify = text("SELECT pg_notify(:channel, :marker)")
        await session.execute(notify, {"channel": CHANNEL, "marker": _MARKER})

    async def heard() -> bool:
        return (database.changes.generation([_MARKER]) or 0) > before

    await eventually(heard, seconds=5)
