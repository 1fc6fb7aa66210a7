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

from aerodrome.db.changes import TableChanges
from aerodrome.db.remembered import Remembered, TablesView
from aerodrome.identity.principal import Identity

# What an identity is made of: who, with which secret or password, in which teams.
IDENTITY_TABLES = frozenset({"users", "teams", "memberships", "remotecis", "feeders"})


class KnownIdentities:
    """The users and agents this process has read, each trusted until an identity change."""

    def __init__(self, tables: TableChanges) -> None:
        self.changes = changes = TablesView(tables, IDENTITY_TABLES)
        # user id → (password hash, identity)
        self.users: Remembered[uuid.UUID, tuple[str, Identity]] = Remembered(changes)
        # (kind, id) → (identity, API secret) of remotecis and feeders
        self.agents: Remembered[tuple[str, uuid.UUID], tuple[Identity, str]] = Remembered(changes)
