"""Engine construction: SQLite in WAL mode or PostgreSQL through asyncpg."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from aerodrome import jsoncodec
from aerodrome.db.pool import FairAsyncPool
from aerodrome.settings import Settings

SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=NORMAL",  # durable across process kills in WAL mode
    "PRAGMA foreign_keys=ON",
    "PRAGMA busy_timeout=10000",
    "PRAGMA cache_size=-65536",
    "PRAGMA temp_store=MEMORY",
)

# Execution option naming the SQLite BEGIN mode. Writers take the write lock up front
# (BEGIN IMMEDIATE) so that two writers queue on busy_timeout instead of failing when a
# read snapshot cannot be upgraded; reads (None) send no BEGIN at all.
SQLITE_BEGIN = "sqlite_begin"


# orjson, several times faster than the json module both ways, with the json module wherever
# orjson would refuse or change the data (see jsoncodec).
JSON_CODEC: dict[str, Any] = {
    "json_serializer": jsoncodec.dumps_text,
    "json_deserializer": jsoncodec.loads,
}


def create_engine(settings: Settings, url: str | None = None) -> AsyncEngine:
    """Build the async engine for the configured database."""
    url = url or settings.effective_database_url
    if url.startswith("sqlite"):
        return _sqlite_engine(url, settings)
    return create_async_engine(
        url,
        poolclass=FairAsyncPool,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        pool_recycle=3600,
        **JSON_CODEC,
    )


def _sqlite_engine(url: str, settings: Settings) -> AsyncEngine:
    engine = create_async_engine(
        url,
        poolclass=FairAsyncPool,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        connect_args={"timeout": 10},
        **JSON_CODEC,
    )

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take over transaction control from the sqlite3 module (see _on_begin).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for pragma in SQLITE_PRAGMAS:
            cursor.execute(pragma)
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Connection) -> None:
        mode = connection.get_execution_options().get(SQLITE_BEGIN, "DEFERRED")
        if mode is not None:  # None: statements autocommit (reads)
            connection.exec_driver_sql(f"BEGIN {mode}")

    return engine
