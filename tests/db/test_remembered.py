"""Reads remembered per database until one of their tables changes (db/remembered.py)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any, cast

from sqlalchemy.ext.asyncio import AsyncSession

from aerodrome.db.changes import TableChanges
from aerodrome.db.reads import recording
from aerodrome.db.remembered import CHANGES, WRITTEN, RememberedReads


def _session(changes: TableChanges, written: set[str] | None = None) -> AsyncSession:
    info: dict[str, Any] = {CHANGES: changes}
    if written is not None:
        info[WRITTEN] = written
    return cast(AsyncSession, SimpleNamespace(info=info))


class Queries:
    """A query that answers `value` and counts how often it ran."""

    def __init__(self, value: str | None) -> None:
        self.value, self.runs = value, 0

    async def __call__(self) -> str | None:
        self.runs += 1
        return self.value


async def test_a_read_is_remembered_until_one_of_its_tables_changes() -> None:
    changes = TableChanges()
    changes.set_listening(True)
    reads: RememberedReads[str, str | None] = RememberedReads({"components"})
    query = Queries("newest")
    for _ in range(3):
        assert await reads.read(_session(changes), "k", query) == "newest"
    assert query.runs == 1
    changes.committed({"jobs"})
    await reads.read(_session(changes), "k", query)
    assert query.runs == 1
    changes.changed("components")
    await reads.read(_session(changes), "k", query)
    assert query.runs == 2


async def test_nothing_is_remembered_while_changes_cannot_be_heard() -> None:
    changes = TableChanges()  # not listening
    reads: RememberedReads[str, str | None] = RememberedReads({"components"})
    query = Queries("newest")
    await reads.read(_session(changes), "k", query)
    await reads.read(_session(changes), "k", query)
    assert query.runs == 2


async def test_a_unit_of_work_that_wrote_a_table_reads_it_afresh() -> None:
    """What it would read is not committed yet: neither used nor remembered."""
    changes = TableChanges()
    changes.set_listening(True)
    reads: RememberedReads[str, str | None] = RememberedReads({"components"})
    committed, uncommitted = Queries("committed"), Queries("uncommitted")
    await reads.read(_session(changes), "k", committed)
    writer = _session(changes, written={"components"})
    assert await reads.read(writer, "k", uncommitted) == "uncommitted"
    assert await reads.read(_session(changes), "k", committed) == "committed"
    assert (committed.runs, uncommitted.runs) == (1, 1)


async def test_an_absent_value_is_not_remembered_and_databases_are_apart() -> None:
    first, second = TableChanges(), TableChanges()
    first.set_listening(True)
    second.set_listening(True)
    reads: RememberedReads[str, str | None] = RememberedReads({"topics"})
    missing = Queries(None)
    await reads.read(_session(first), "k", missing)
    await reads.read(_session(first), "k", missing)
    assert missing.runs == 2
    await reads.read(_session(first), "k", Queries("of the first"))
    assert await reads.read(_session(second), "k", Queries("of the second")) == "of the second"


async def test_a_value_given_from_memory_counts_as_read_for_a_kept_answer() -> None:
    """An answer kept in memory (api/response_cache.py) that used a remembered value must go
    stale when that value's tables change, though no statement read them this time."""
    changes = TableChanges()
    changes.set_listening(True)
    reads: RememberedReads[str, str | None] = RememberedReads({"topics", "product_teams"})
    await reads.read(_session(changes), "k", Queries("topic"))
    with recording() as recorded:
        await reads.read(_session(changes), "k", Queries("unused"))
    assert recorded.tables == {"topics", "product_teams"}
