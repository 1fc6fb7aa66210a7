"""Values a server process read from a few tables, trusted until it hears one of them changed.

What rarely changes but is read on every request of a hot path (an identity, the newest
component of each type, the job definitions a team may run) is kept in memory per process.
A value is trusted only while no change to the tables it was read from has been heard of
since the read began (db/changes.py says how changes are heard of; while they cannot be,
nothing is trusted and every read goes to the database).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable, Iterable
from typing import Generic, TypeVar
from weakref import WeakKeyDictionary

from sqlalchemy.ext.asyncio import AsyncSession

from aerodrome.db.changes import TableChanges
from aerodrome.db.reads import note_read

CHANGES = "aerodrome_table_changes"  # session.info key: the TableChanges of its database
WRITTEN = "aerodrome_written_tables"  # session.info key: the tables a unit of work wrote

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class TablesView:
    """The changes to some tables that a process has heard of, while it can hear them."""

    def __init__(self, changes: TableChanges, tables: Iterable[str]) -> None:
        self._changes = changes
        self.tables = frozenset(tables)

    @property
    def generation(self) -> int | None:
        """Changes heard of so far; None while this process cannot hear of changes."""
        return self._changes.generation(self.tables)

    @property
    def listening(self) -> bool:
        return self._changes.listening


class Remembered(Generic[K, V]):
    """Values read from the tables of `view`, trusted until one of them changes.

    Read `view.generation` before the query and pass it to `put`: a change that arrives
    while the query runs makes the value untrusted at once.
    """

    def __init__(self, view: TablesView, max_entries: int = 10_000) -> None:
        self.view = view
        self._max = max_entries
        self._entries: OrderedDict[K, tuple[int, V]] = OrderedDict()

    def get(self, key: K) -> V | None:
        entry = self._entries.get(key)
        if entry is None or entry[0] != self.view.generation:
            return None
        return entry[1]

    def put(self, key: K, value: V, generation: int | None) -> None:
        if generation is None or generation != self.view.generation:
            return
        self._entries[key] = (generation, value)
        self._entries.move_to_end(key)
        while len(self._entries) > self._max:
            self._entries.popitem(last=False)


class RememberedReads(Generic[K, V]):
    """A read of `tables` that a service makes through its session, remembered per database.

    The session says which database it is on (`Database.unit_of_work` puts its TableChanges
    in `session.info`). A unit of work that has written one of the tables reads them afresh
    and remembers nothing: what it sees is not committed yet.
    """

    def __init__(self, tables: Iterable[str], max_entries: int = 10_000) -> None:
        self.tables = frozenset(tables)
        self._max = max_entries
        self._by_database: WeakKeyDictionary[TableChanges, Remembered[K, V]] = WeakKeyDictionary()

    async def read(self, session: AsyncSession, key: K, query: Callable[[], Awaitable[V]]) -> V:
        """The remembered value of `key`, else `query()`'s (remembered unless it is None)."""
        remembered = self._remembered(session)
        if remembered is None:
            return await query()
        value = remembered.get(key)
        if value is None:
            generation = remembered.view.generation
            value = await query()
            if value is not None:
                remembered.put(key, value, generation)
        else:
            note_read(self.tables)  # an answer kept in memory depends on them all the same
        return value

    def _remembered(self, session: AsyncSession) -> Remembered[K, V] | None:
        changes: TableChanges | None = session.info.get(CHANGES)
        if changes is None or not self.tables.isdisjoint(session.info.get(WRITTEN, ())):
            return None
        remembered = self._by_database.get(changes)
        if remembered is None:
            view = TablesView(changes, self.tables)
            remembered = self._by_database[changes] = Remembered(view, self._max)
        return remembered
