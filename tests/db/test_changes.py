"""How a process hears of changes (db/changes.py): every table announces its changes on
PostgreSQL (migration 0018); on SQLite, any commit to the file moves its data version."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import text

from aerodrome.db.changes import ANNOUNCING_TABLES, TRIGGER, FileChanges
from aerodrome.db.metadata import metadata
from tests.conftest import Backend


async def test_every_table_announces_its_changes(backend: Backend) -> None:
    if backend.name != "postgresql":
        pytest.skip("SQLite announces nothing: FileChanges reads the file's data version")
    query = text(ANNOUNCING_TABLES.replace("$1", ":trigger"))
    async with backend.database.unit_of_work(write=False) as session:
        announcing = set((await session.execute(query, {"trigger": TRIGGER})).scalars())
    assert announcing == set(metadata.tables)


def test_a_commit_by_any_other_connection_moves_the_data_version(tmp_path: Path) -> None:
    path = str(tmp_path / "changes.db")
    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("PRAGMA journal_mode=WAL")
    writer.execute("CREATE TABLE t (x INTEGER)")
    changes = FileChanges(path, ["t", "u"])
    try:
        first = changes.generation(["t"])
        assert first is not None
        assert changes.generation(["u"]) == first  # nothing committed since
        before = changes.snapshot()
        writer.execute("INSERT INTO t VALUES (1)")
        # Seen at once, and as a change of every table: SQLite does not say which.
        assert changes.generation(["t"]) != first
        assert changes.generation(["u"]) != first
        assert before is not None
        assert before.generation(["u"]) != changes.generation(["u"])
        writer.execute("BEGIN")
        writer.execute("INSERT INTO t VALUES (2)")
        unchanged = changes.generation(["t"])
        writer.execute("ROLLBACK")
        assert changes.generation(["t"]) == unchanged
    finally:
        changes.close()
        writer.close()


def test_nothing_is_trusted_while_the_file_cannot_be_read(tmp_path: Path) -> None:
    changes = FileChanges(str(tmp_path / "missing.db"), ["t"])
    assert not changes.listening
    assert changes.generation(["t"]) is None
    assert changes.snapshot() is None
    assert not (tmp_path / "missing.db").exists()  # read only: never created
