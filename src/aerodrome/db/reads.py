"""Which tables the statements of a piece of work read, and whether that is all it depended on.

A kept response (api/response_cache.py) stays right only until one of the tables it was read
from changes, so it must know them all. Every statement sent through the engine is seen here
while `recording()` is active; a statement this module cannot vouch for makes the whole
recording unusable:

- anything but a SELECT (a write, DDL, a statement given as text: its tables are unknown);
- a SELECT that asks the database for the time or a random number (its answer changes with
  no table changing).
"""

from __future__ import annotations

import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Compiled
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.sql import visitors
from sqlalchemy.sql.elements import ColumnClause, TextClause
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.sql.selectable import CompoundSelect, Select, TableClause

# SQL functions whose value changes by itself (PostgreSQL and SQLite names).
_VOLATILE = frozenset(
    {
        "now",
        "current_timestamp",
        "current_date",
        "current_time",
        "localtimestamp",
        "localtime",
        "clock_timestamp",
        "statement_timestamp",
        "transaction_timestamp",
        "timeofday",
        "random",
        "gen_random_uuid",
        "uuid_generate_v4",
        "datetime",
        "julianday",
        "strftime",
        "unixepoch",
        "date",
        "time",
        "randomblob",
    }
)


class Reads:
    """The tables read so far, and whether nothing but those tables decided the answers."""

    __slots__ = ("tables", "trustworthy")

    def __init__(self) -> None:
        self.tables: set[str] = set()
        self.trustworthy = True


_RECORDING: ContextVar[Reads | None] = ContextVar("aerodrome_reads", default=None)
# Compiled statements are cached and reused by SQLAlchemy: their tables are found once.
_TABLES: weakref.WeakKeyDictionary[Compiled, frozenset[str] | None] = weakref.WeakKeyDictionary()


@contextmanager
def recording() -> Iterator[Reads]:
    """Record the tables read by the statements executed in this context."""
    reads = Reads()
    token = _RECORDING.set(reads)
    try:
        yield reads
    finally:
        _RECORDING.reset(token)


def note_read(tables: frozenset[str]) -> None:
    """Count `tables` as read by the current recording: for a value read from them earlier and
    given from memory (db/remembered.py), whose statements are not sent again."""
    reads = _RECORDING.get()
    if reads is not None:
        reads.tables |= tables


def watch(engine: AsyncEngine) -> None:
    """Let `recording()` see the statements sent through `engine`."""
    if not event.contains(engine.sync_engine, "before_cursor_execute", _note):
        event.listen(engine.sync_engine, "before_cursor_execute", _note)


def _note(
    _connection: Any,
    _cursor: Any,
    _statement: str,
    _parameters: Any,
    context: Any,
    _executemany: bool,
) -> None:
    reads = _RECORDING.get()
    if reads is None or not reads.trustworthy:
        return
    compiled = getattr(context, "compiled", None)
    tables = _tables_of(compiled) if compiled is not None else None
    if tables is None:
        reads.trustworthy = False
    else:
        reads.tables |= tables


def _tables_of(compiled: Compiled) -> frozenset[str] | None:
    try:
        return _TABLES[compiled]
    except KeyError:
        tables = tables_read(compiled.statement)
        _TABLES[compiled] = tables
        return tables


def tables_read(statement: Any) -> frozenset[str] | None:
    """The names of the tables a SELECT reads; None when it is not a plain SELECT of tables."""
    if not isinstance(statement, Select | CompoundSelect):
        return None
    tables: set[str] = set()
    pending: list[Any] = [statement]
    seen: set[int] = set()
    while pending:
        for element in visitors.iterate(pending.pop()):
            if isinstance(element, TextClause):
                return None
            if isinstance(element, FunctionElement) and _is_volatile(element):
                return None
            if isinstance(element, TableClause):
                tables.add(element.name)
            elif isinstance(element, ColumnClause) and id(element.table) not in seen:
                # A column leads to its table (or alias, or subquery) only through `.table`.
                seen.add(id(element.table))
                if element.table is not None:
                    pending.append(element.table)
    return frozenset(tables)


def _is_volatile(function: FunctionElement[Any]) -> bool:
    name = getattr(function, "name", "")
    return isinstance(name, str) and name.lower() in _VOLATILE
