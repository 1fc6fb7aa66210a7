"""Identities a server process has read, trusted until it hears that an identity changed.

Authenticating a remembered credential or a signed agent used to cost one query on every
request, to see whether the user, agent or team had changed since. Now each process keeps
what it read, trusted only while it has heard of no change to the identity tables since the
read (db/changes.py says how it hears of them). While it cannot hear of changes (a lost
connection to PostgreSQL, an unreadable SQLite file) nothing is trusted and every request asks
the database, as before.
"""

from __future__ import annotations

import uuid
from collections import OrderedDict
from typing import Generic, TypeVar

from aerodrome.db.changes import TableChanges
from aerodrome.identity.principal import Identity

# What an identity is made of: who, with which secret or password, in which teams.
IDENTITY_TABLES = frozenset({"users", "teams", "memberships", "remotecis", "feeders"})

K = TypeVar("K")
V = TypeVar("V")


class IdentityChanges:
    """The changes to the identity tables this process has heard of, while it can hear them."""

    def __init__(self, tables: TableChanges) -> None:
        self._tables = tables

    @property
    def generation(self) -> int | None:
        """Changes heard of so far; None while this process cannot hear of changes."""
        return self._tables.generation(IDENTITY_TABLES)

    @property
    def listening(self) -> bool:
        return self._tables.listening


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
