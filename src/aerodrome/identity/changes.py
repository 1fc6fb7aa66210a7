"""How a server process learns that identities changed, so that it may trust what it read.

Authenticating a remembered credential or a signed agent used to cost one query on every
request, to see whether the user, agent or team had changed since. Now each process keeps
what it read, trusted only while it has heard of no change since the read:

- PostgreSQL triggers on the identity tables (migration 0016) `NOTIFY aerodrome_identity`
  when a change commits, whoever makes it (another process, the CLI, plain SQL). Every
  process LISTENs on a connection of its own and counts the notifications.
- A unit of work of this process that wrote an identity table counts itself as soon as it
  has committed, before its answer leaves: a caller never sees its own change ignored.
- While nothing listens (SQLite, or the connection is lost and not yet back) nothing is
  trusted and every request asks the database, as before.

A change made elsewhere is therefore seen when its notification arrives, normally well
under a millisecond after the commit.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections import OrderedDict
from collections.abc import Set
from typing import Any, Generic, TypeVar

import asyncpg
from sqlalchemy.ext.asyncio import AsyncEngine

from aerodrome.identity.principal import Identity

CHANNEL = "aerodrome_identity"
# What an identity is made of: who, with which secret or password, in which teams.
IDENTITY_TABLES = frozenset({"users", "teams", "memberships", "remotecis", "feeders"})
LISTENER_NAME = "aerodrome identity listener"  # its application_name in pg_stat_activity

logger = logging.getLogger("aerodrome.identity")

K = TypeVar("K")
V = TypeVar("V")


class IdentityChanges:
    """The number of identity changes this process has heard of, while it can hear them."""

    def __init__(self) -> None:
        self._count = 0
        self._listening = False

    @property
    def generation(self) -> int | None:
        """Changes heard of so far; None while this process cannot hear of changes."""
        return self._count if self._listening else None

    @property
    def listening(self) -> bool:
        return self._listening

    def changed(self) -> None:
        self._count += 1

    def committed(self, tables: Set[str]) -> None:
        """A unit of work of this process committed writes to `tables`."""
        if tables & IDENTITY_TABLES:
            self.changed()

    def set_listening(self, listening: bool) -> None:
        # Whatever was read before the connection came (back) may have missed a change.
        self._count += 1
        self._listening = listening


class Remembered(Generic[K, V]):
    """Values read from the identity tables, trusted until an identity change is heard of.

    Read `changes.generation` before the query and pass it to `put`: a change that arrives
    while the query runs makes the value untrusted at once.
    """

    def __init__(self, changes: IdentityChanges, max_entries: int = 10_000) -> None:
        self._changes = changes
        self._max = max_entries
        self._entries: OrderedDict[K, tuple[int, V]] = OrderedDict()

    def get(self, key: K) -> V | None:
        entry = self._entries.get(key)
        if entry is None or entry[0] != self._changes.generation:
            return None
        return entry[1]

    def put(self, key: K, value: V, generation: int | None) -> None:
        if generation is None or generation != self._changes.generation:
            return
        self._entries[key] = (generation, value)
        self._entries.move_to_end(key)
        while len(self._entries) > self._max:
            self._entries.popitem(last=False)


class KnownIdentities:
    """The users and agents this process has read, each trusted until an identity change."""

    def __init__(self, changes: IdentityChanges) -> None:
        self.changes = changes
        # user id → (password hash, identity)
        self.users: Remembered[uuid.UUID, tuple[str, Identity]] = Remembered(changes)
        # (kind, id) → (identity, API secret) of remotecis and feeders
        self.agents: Remembered[tuple[str, uuid.UUID], tuple[Identity, str]] = Remembered(changes)


async def listen(
    engine: AsyncEngine,
    changes: IdentityChanges,
    stopping: asyncio.Event,
    *,
    probe_seconds: float = 10.0,
    retry_seconds: float = 1.0,
) -> None:
    """LISTEN for identity changes until `stopping`, reconnecting when the connection is lost.

    The connection is probed every `probe_seconds`: a connection that died without a word
    (a dropped network) must not leave the process trusting what it read.
    """
    args, kwargs = engine.dialect.create_connect_args(engine.url)
    kwargs["server_settings"] = {"application_name": LISTENER_NAME}
    while not stopping.is_set():
        try:
            connection = await asyncpg.connect(*args, **kwargs)
        except Exception as exc:  # whatever the reason, nothing is trusted until it connects
            logger.warning("identity listener cannot connect: %s", type(exc).__name__)
        else:
            await _listen_on(connection, changes, stopping, probe_seconds)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stopping.wait(), retry_seconds)


async def _listen_on(
    connection: Any, changes: IdentityChanges, stopping: asyncio.Event, probe_seconds: float
) -> None:
    lost = asyncio.Event()
    connection.add_termination_listener(lambda _connection: lost.set())
    try:
        await connection.add_listener(CHANNEL, lambda *_notification: changes.changed())
        changes.set_listening(True)
        while not (stopping.is_set() or lost.is_set()):
            await _first_of(stopping, lost, seconds=probe_seconds)
            if not (stopping.is_set() or lost.is_set()):
                await connection.fetchval("SELECT 1", timeout=probe_seconds)
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError) as exc:
        logger.warning("identity listener lost its connection: %s", type(exc).__name__)
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
