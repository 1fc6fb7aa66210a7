"""How a server process learns that a table changed, so that it may trust what it read from it.

- On SQLite, whoever commits to the database file (another process, the CLI, the sqlite3
  shell) moves its `PRAGMA data_version`, which a connection of this process reads before it
  trusts anything (`FileChanges`): a few microseconds, no thread hop, and exact. It does not say
  which table changed, so any change counts as a change of every table.
- On PostgreSQL, a statement trigger on every table (migration 0018) sends
  `NOTIFY aerodrome_changes, '<table>'` when a change commits, whoever makes it: another
  server process, the CLI, plain SQL. Each process LISTENs on a connection of its own and
  counts the notifications per table.
- A unit of work of this process counts the tables it wrote as soon as it has committed,
  before its answer leaves: a caller never sees its own change ignored.
- While nothing listens (SQLite, or the connection is lost and not yet back) nothing is
  trusted: `generation` is None.

On PostgreSQL a change made elsewhere is therefore seen when its notification arrives, normally
well under a millisecond after the commit; on SQLite as soon as it has committed. What is
trusted this way: identities (identity/changes.py) and kept responses (api/response_cache.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
from collections.abc import Iterable, Set
from typing import Any

import asyncpg
from sqlalchemy.ext.asyncio import AsyncEngine

CHANNEL = "aerodrome_changes"
TRIGGER = "aerodrome_announce_change"  # the trigger's name on every announcing table
LISTENER_NAME = "aerodrome change listener"  # its application_name in pg_stat_activity

# The tables of the current schema that carry the trigger: a table without it changes unheard.
ANNOUNCING_TABLES = """
    SELECT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
    WHERE t.tgname = $1 AND c.relnamespace = current_schema()::regnamespace
"""

logger = logging.getLogger("aerodrome.db.changes")


class TableChanges:
    """The changes this process has heard of, per table, while it can hear them."""

    def __init__(self) -> None:
        self._counts: dict[str, int] = {}
        # Bumped whenever listening starts or stops: what was read before may have missed a change.
        self._epoch = 0
        self._listening = False
        self.announcing: frozenset[str] = frozenset()

    @property
    def listening(self) -> bool:
        return self._listening

    def generation(self, tables: Iterable[str]) -> int | None:
        """A number that changes whenever one of `tables` changes; None while not listening.

        Every counter only grows, so their sum is equal only if none moved."""
        if not self._listening:
            return None
        counts = self._counts
        return self._epoch + sum(counts.get(table, 0) for table in tables)

    def snapshot(self) -> Snapshot | None:
        """The counters as they are now, to learn later what `generation` was at this moment."""
        if not self._listening:
            return None
        return Snapshot(self._epoch, dict(self._counts))

    def changed(self, table: str) -> None:
        self._counts[table] = self._counts.get(table, 0) + 1

    def committed(self, tables: Set[str]) -> None:
        """A unit of work of this process committed writes to `tables`."""
        for table in tables:
            self.changed(table)

    def close(self) -> None:
        """Release what hearing of changes holds: nothing (the listener owns its connection)."""

    def set_listening(self, listening: bool, announcing: Iterable[str] = ()) -> None:
        self._epoch += 1
        self._listening = listening
        self.announcing = frozenset(announcing) if listening else frozenset()


class FileChanges(TableChanges):
    """SQLite: changes to the database file at `path`, by any connection of any process."""

    def __init__(self, path: str, tables: Iterable[str]) -> None:
        super().__init__()
        self._path = path
        self._tables = frozenset(tables)
        self._connection: sqlite3.Connection | None = None
        self._version: int | None = None

    @property
    def listening(self) -> bool:
        return self._poll()

    def generation(self, tables: Iterable[str]) -> int | None:
        return super().generation(tables) if self._poll() else None

    def snapshot(self) -> Snapshot | None:
        return super().snapshot() if self._poll() else None

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def _poll(self) -> bool:
        """Read the file's data version; a new one is a change of every table. False when it
        cannot be read (nothing is trusted then)."""
        try:
            if self._connection is None:
                # Opened on first use: the file may not exist before the server creates it.
                # No busy wait: this runs on the event loop, which must never sleep on a lock.
                self._connection = sqlite3.connect(
                    f"file:{self._path}?mode=ro", uri=True, isolation_level=None, timeout=0
                )
            version = self._connection.execute("PRAGMA data_version").fetchone()[0]
        except sqlite3.OperationalError as exc:
            if exc.sqlite_errorcode != sqlite3.SQLITE_BUSY:
                return self._lost(exc)
            return False  # untrusted this once; measured: never seen under 3 busy writers
        except sqlite3.Error as exc:
            return self._lost(exc)
        if version != self._version or not self._listening:
            self._version = version
            self.set_listening(True, self._tables)
        return True

    def _lost(self, exc: sqlite3.Error) -> bool:
        if self._version is not None:
            logger.warning("cannot read the database's data version: %s", exc)
        self.close()
        self._version = None
        self.set_listening(False)
        return False


class Snapshot:
    """`TableChanges` counters at one moment."""

    __slots__ = ("_counts", "_epoch")

    def __init__(self, epoch: int, counts: dict[str, int]) -> None:
        self._epoch = epoch
        self._counts = counts

    def generation(self, tables: Iterable[str]) -> int:
        return self._epoch + sum(self._counts.get(table, 0) for table in tables)


async def listen(
    engine: AsyncEngine,
    changes: TableChanges,
    stopping: asyncio.Event,
    *,
    probe_seconds: float = 10.0,
    retry_seconds: float = 1.0,
) -> None:
    """LISTEN for table changes until `stopping`, reconnecting when the connection is lost.

    The connection is probed every `probe_seconds`: a connection that died without a word
    (a dropped network) must not leave the process trusting what it read.
    """
    args, kwargs = engine.dialect.create_connect_args(engine.url)
    kwargs["server_settings"] = {"application_name": LISTENER_NAME}
    while not stopping.is_set():
        try:
            connection = await asyncpg.connect(*args, **kwargs)
        except Exception as exc:  # whatever the reason, nothing is trusted until it connects
            logger.warning("change listener cannot connect: %s", type(exc).__name__)
        else:
            await _listen_on(connection, changes, stopping, probe_seconds)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stopping.wait(), retry_seconds)


async def _listen_on(
    connection: Any, changes: TableChanges, stopping: asyncio.Event, probe_seconds: float
) -> None:
    lost = asyncio.Event()
    connection.add_termination_listener(lambda _connection: lost.set())
    try:
        await connection.add_listener(
            CHANNEL, lambda _connection, _pid, _channel, table: changes.changed(table)
        )
        # Read after LISTEN: a table given its trigger meanwhile is at worst left out.
        announcing = [row[0] for row in await connection.fetch(ANNOUNCING_TABLES, TRIGGER)]
        changes.set_listening(True, announcing)
        while not (stopping.is_set() or lost.is_set()):
            await _first_of(stopping, lost, seconds=probe_seconds)
            if not (stopping.is_set() or lost.is_set()):
                await connection.fetchval("SELECT 1", timeout=probe_seconds)
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError) as exc:
        logger.warning("change listener lost its connection: %s", type(exc).__name__)
    finally:
        changes.set_listening(False)
        with contextlib.suppress(Exception):
            await connection.close(timeout=5)


async def _first_of(*events: asyncio.Event, seconds: float) -> None:
    """Until one of `events` is set, or `seconds` have passed."""
    waiters = [asyncio.create_task(event.wait()) for event in events]
    try:
        await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
