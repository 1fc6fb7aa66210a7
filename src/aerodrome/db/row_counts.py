"""Row counts kept by the database, so that an unfiltered list does not count a million rows.

`_meta.count` of `GET /api/v1/jobs` is the number of jobs the caller may see. Counting them
on each request costs an index scan over all of them: 60 ms for a super admin with a million
jobs, on every page. Instead, triggers on a counted table append one delta row per team for
every insert, delete, archive or team change (created in migration 0011): never an update of
a shared row, so concurrent writers do not queue on a hot counter. A list without filters
sums the deltas of the caller's teams (`resources.list_rows`); `fold` now and then replaces
a table's deltas by one row per team so that the sum stays short.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter

from sqlalchemy import BigInteger, Index, Integer, String, Uuid, delete, insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from aerodrome import periodic
from aerodrome.db.base import Base
from aerodrome.db.session import Database

# Tables with the triggers of migration 0011; their Resource says `counted=True`.
COUNTED_TABLES = ("jobs",)
FOLD_INTERVAL_SECONDS = 30.0


class RowCount(Base):
    """One change to the number of listed (not archived) rows of a table for a team."""

    __tablename__ = "row_counts"
    __table_args__ = (Index("ix_row_counts_table_name_team_id", "table_name", "team_id"),)

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    table_name: Mapped[str] = mapped_column(String(64))
    team_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    delta: Mapped[int] = mapped_column(BigInteger)


ROW_COUNTS = RowCount.__table__


async def fold(session: AsyncSession, table_name: str) -> int:
    """Replace the deltas of `table_name` by one row per team; returns the rows removed.

    Exactly the deleted rows are summed (DELETE … RETURNING), so deltas committed meanwhile
    by other transactions are neither lost nor counted twice, on either database."""
    removed = await session.execute(
        delete(ROW_COUNTS)
        .where(ROW_COUNTS.c.table_name == table_name)
        .returning(ROW_COUNTS.c.team_id, ROW_COUNTS.c.delta)
    )
    totals: Counter[uuid.UUID | None] = Counter()
    rows = 0
    for team_id, delta in removed:
        totals[team_id] += delta
        rows += 1
    kept = [
        {"table_name": table_name, "team_id": team, "delta": total}
        for team, total in totals.items()
        if total
    ]
    if kept:
        await session.execute(insert(ROW_COUNTS), kept)
    return rows


async def fold_periodically(database: Database, stop: asyncio.Event) -> None:
    """Fold every counted table every FOLD_INTERVAL_SECONDS until `stop` is set. A failed
    round is retried on the next one; the counts stay right meanwhile."""

    async def fold_all() -> None:
        for table_name in COUNTED_TABLES:
            async with database.unit_of_work() as session:
                await fold(session, table_name)

    await periodic.repeat(fold_all, FOLD_INTERVAL_SECONDS, stop, "folding row counts")
