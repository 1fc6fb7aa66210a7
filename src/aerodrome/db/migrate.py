"""Alembic, driven from code: `aerodrome db upgrade`, and the schema check at start."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import anyio
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection

from aerodrome.db.session import Database

MIGRATIONS = Path(__file__).parent / "migrations"


class SchemaError(Exception):
    """The database schema does not match this version of the code."""


@dataclass(frozen=True)
class SchemaStatus:
    """Revisions are sets: each domain's migrations may form a branch of their own."""

    current: frozenset[str]
    head: frozenset[str]

    @property
    def is_empty(self) -> bool:
        return not self.current

    @property
    def is_current(self) -> bool:
        return self.current == self.head


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["url"] = url
    return config


def head_revisions() -> frozenset[str]:
    return frozenset(ScriptDirectory.from_config(alembic_config("")).get_heads())


async def upgrade(url: str, revision: str = "heads") -> None:
    """Bring the schema to `revision`. Alembic runs its own event loop, so use a thread."""
    await anyio.to_thread.run_sync(command.upgrade, alembic_config(url), revision)


async def schema_status(database: Database) -> SchemaStatus:
    def current(connection: Connection) -> frozenset[str]:
        return frozenset(MigrationContext.configure(connection).get_current_heads())

    async with database.engine.connect() as connection:
        revision = await connection.run_sync(current)
    return SchemaStatus(current=revision, head=head_revisions())


async def ensure_schema(database: Database, url: str, *, upgrade_empty: bool) -> SchemaStatus:
    """Upgrade an empty database when allowed; refuse an outdated or unknown schema."""
    status = await schema_status(database)
    if status.is_empty and upgrade_empty:
        await upgrade(url)
        return await schema_status(database)
    if status.is_empty:
        raise SchemaError("the database has no schema: run `aerodrome db upgrade`")
    if not status.is_current:
        current, head = ", ".join(sorted(status.current)), ", ".join(sorted(status.head))
        if status.current <= _known_revisions():
            raise SchemaError(
                f"the database schema is at revision {current}, older than this "
                f"version of Aerodrome needs ({head}): run `aerodrome db upgrade`"
            )
        raise SchemaError(
            f"the database schema is at revision {current}, which this version of "
            "Aerodrome does not know (is it newer than the code?)"
        )
    return status


def _known_revisions() -> set[str]:
    script = ScriptDirectory.from_config(alembic_config(""))
    return {rev.revision for rev in script.walk_revisions()}
