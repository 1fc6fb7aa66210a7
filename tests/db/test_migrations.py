"""The migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection

from aerodrome.db.metadata import metadata
from aerodrome.db.migrate import head_revisions, schema_status
from aerodrome.db.session import Database
from aerodrome.settings import Settings
from tests.conftest import Backend


async def test_migrated_schema_matches_models(backend: Backend) -> None:
    def differences(connection: Connection) -> list[object]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, metadata))

    async with backend.database.engine.connect() as connection:
        diff = await connection.run_sync(differences)
    assert diff == []
    status = await schema_status(backend.database)
    assert status.current == head_revisions()
    assert status.is_current


async def test_sqlite_runs_in_wal_mode(tmp_path: Path) -> None:
    database = Database(Settings(data_dir=tmp_path))
    async with database.engine.connect() as connection:
        mode = (await connection.exec_driver_sql("PRAGMA journal_mode")).scalar_one()
        keys = (await connection.exec_driver_sql("PRAGMA foreign_keys")).scalar_one()
        synchronous = (await connection.exec_driver_sql("PRAGMA synchronous")).scalar_one()
    await database.dispose()
    assert (mode, keys, synchronous) == ("wal", 1, 1)
