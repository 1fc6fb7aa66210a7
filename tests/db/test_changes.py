"""Every table announces its changes on PostgreSQL (migration 0018, db/changes.py)."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from aerodrome.db.changes import ANNOUNCING_TABLES, TRIGGER
from aerodrome.db.metadata import metadata
from tests.conftest import Backend


async def test_every_table_announces_its_changes(backend: Backend) -> None:
    if backend.name != "postgresql":
        pytest.skip("SQLite has no notifications: nothing is trusted there")
    query = text(ANNOUNCING_TABLES.replace("$1", ":trigger"))
    async with backend.database.unit_of_work(write=False) as session:
        announcing = set((await session.execute(query, {"trigger": TRIGGER})).scalars())
    assert announcing == set(metadata.tables)
