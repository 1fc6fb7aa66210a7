"""The unit of work: one transaction per request, CLI command or background task.

Services never commit; the edge that opened the unit of work commits when it ends
without an error and rolls back otherwise (docs/decisions/0001-transactions.md).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Set
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.orm import ORMExecuteState, Session

from aerodrome.db.changes import TableChanges
from aerodrome.db.engine import SQLITE_BEGIN, create_engine
from aerodrome.db.remembered import CHANGES, WRITTEN
from aerodrome.settings import Settings


@event.listens_for(Session, "do_orm_execute")
def _note_written_table(state: ORMExecuteState) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        table = getattr(state.statement, "table", None)
        if table is not None:
            state.session.info.setdefault(WRITTEN, set()).add(table.name)


class Database:
    """The engine plus the way to open units of work on it."""

    def __init__(self, settings: Settings, url: str | None = None) -> None:
        self.engine: AsyncEngine = create_engine(settings, url)
        self.is_sqlite = self.engine.dialect.name == "sqlite"
        self._writer = (
            self.engine.execution_options(**{SQLITE_BEGIN: "IMMEDIATE"})
            if self.is_sqlite
            else self.engine
        )
        # Reads run each statement in its own implicit transaction: no BEGIN/COMMIT round
        # trips. A read that needs one snapshot across statements asks for write=True.
        self._reader = self.engine.execution_options(
            **({SQLITE_BEGIN: None} if self.is_sqlite else {"isolation_level": "AUTOCOMMIT"})
        )
        # Called after a unit of work has committed, with the names of the tables it wrote
        # through its session (see _note_written_table).
        self.after_commit: list[Callable[[Set[str]], None]] = []
        # How this process hears of changes to the tables (a server sets it; until then it
        # never listens, and nothing read is remembered: db/remembered.py).
        self.changes = TableChanges()

    @asynccontextmanager
    async def unit_of_work(self, *, write: bool = True) -> AsyncIterator[AsyncSession]:
        """A session inside one transaction, committed on success and rolled back on error."""
        bind = self._writer if write else self._reader
        info = {CHANGES: self.changes}
        async with AsyncSession(bind=bind, expire_on_commit=False, info=info) as session:
            try:
                yield session
            except BaseException:
                await session.rollback()
                raise
            await session.commit()
            written = session.info.get(WRITTEN)
            if written:
                for hook in self.after_commit:
                    hook(written)

    async def ping(self) -> None:
        async with self.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    def pool_statistics(self) -> dict[str, Any]:
        pool: Any = self.engine.pool
        stats: dict[str, Any] = {"class": type(pool).__name__}
        for name in ("size", "checkedin", "checkedout", "overflow"):
            method = getattr(pool, name, None)
            if callable(method):
                stats[name] = method()
        return stats

    async def dispose(self) -> None:
        await self.engine.dispose()
