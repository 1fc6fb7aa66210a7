"""Nothing acknowledged is lost when the server process is killed (SIGKILL, no shutdown)."""

from __future__ import annotations

import asyncio
import signal

import httpx
from sqlalchemy import func, select

from aerodrome.catalog.models import ComponentType
from tests.conftest import ADMIN, Backend, server_environment, start_server


async def test_acknowledged_writes_survive_sigkill(backend: Backend) -> None:
    server, url = await asyncio.to_thread(start_server, server_environment(backend))
    try:
        async with httpx.AsyncClient(base_url=url, headers=ADMIN, timeout=30) as http:
            responses = await asyncio.gather(
                *(http.post("/api/v1/componenttypes", json={"name": f"t{i}"}) for i in range(40))
            )
    finally:
        server.send_signal(signal.SIGKILL)
        server.wait(timeout=15)
    acknowledged = {r.json()["componenttype"]["id"] for r in responses if r.status_code == 201}
    assert len(acknowledged) == 40
    table = ComponentType.__table__
    async with backend.database.unit_of_work(write=False) as session:
        stored = await session.execute(select(func.count()).select_from(table))
    assert stored.scalar_one() == 40
