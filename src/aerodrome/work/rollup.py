"""Run roll-ups, kept up to date in the transaction of every job write.

Each job write moves one count from the old status's counter to the new one's with a single
relative UPDATE (`queued = queued - 1, pass = pass + 1`), so concurrent writers never lose a
count and reading a run never counts its jobs. The run's status is derived from the counters
in the same statement, and the run's `updated_at`/etag change with it (its shown results did).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from sqlalchemy import ColumnElement, Update, bindparam, case, func, update
from sqlalchemy.ext.asyncio import AsyncSession

from aerodrome.db.base import new_etag
from aerodrome.db.types import utcnow
from aerodrome.work.models import Run
from aerodrome.work.status import RUN_COUNTERS, TO_PADDLES

_RUNS = Run.__table__
_C = _RUNS.c
# (old status, new status) → how many jobs made that move; None stands for "no job".
Moves = Mapping[tuple[str | None, str | None], int]


def _status_after(counts: dict[str, ColumnElement[Any]]) -> ColumnElement[str]:
    """paddles' run status, from the counters as they will be after the update."""
    total, queued = counts["total"], counts["queued"]
    finished = counts["pass"] + counts["fail"] + counts["dead"]
    return case(
        (total == 0, "empty"),
        (queued == total, "queued"),
        (counts["running"] > 0, "running"),
        (counts["waiting"] > 0, "waiting"),
        (queued > 0, "running"),
        (
            finished == total,
            case(
                (counts["fail"] > 0, "finished fail"),
                (counts["dead"] > 0, "finished dead"),
                else_="finished pass",
            ),
        ),
        else_="unknown",
    )


def counter_deltas(moves: Moves) -> dict[str, int]:
    """How much each run counter changes when jobs make `moves`."""
    delta = dict.fromkeys((*RUN_COUNTERS, "total"), 0)
    for (old, new), jobs in moves.items():
        delta["total"] += ((new is not None) - (old is not None)) * jobs
        before, after = TO_PADDLES.get(old or ""), TO_PADDLES.get(new or "")
        if before:
            delta[before] -= jobs
        if after:
            delta[after] += jobs
    return delta


@lru_cache(maxsize=1024)
def _statement(delta: tuple[tuple[str, int], ...], fill: tuple[str, ...]) -> Update:
    """The UPDATE for one shape of change, built once: building the CASE costs more than
    running it. Parameters: `run_id`, `now`, `etag` and `fill_<column>`."""
    changes = dict(delta)
    counts = {name: _C[name] + change for name, change in changes.items()}
    values: dict[Any, Any] = {_C[name]: counts[name] for name, change in changes.items() if change}
    if any(changes.values()):
        values[_C.status] = _status_after(counts)
    for name in fill:
        values[_C[name]] = func.coalesce(_C[name], bindparam(f"fill_{name}", type_=_C[name].type))
    values[_C.updated_at] = bindparam("now", type_=_C.updated_at.type)
    values[_C.etag] = bindparam("etag", type_=_C.etag.type)
    return update(_RUNS).where(_C.id == bindparam("run_id", type_=_C.id.type)).values(values)


async def count_job_moves(
    session: AsyncSession,
    run_id: uuid.UUID | None,
    moves: Moves,
    *,
    fill: Mapping[str, Any] | None = None,
) -> None:
    """Record that jobs of `run_id` changed status as `moves` says, in one UPDATE.

    `fill` sets run columns that are still empty (NULL) in the same statement.
    """
    if run_id is None:
        return
    delta = counter_deltas(moves)
    fill = {name: value for name, value in (fill or {}).items() if value is not None}
    if not any(delta.values()) and not fill:
        return
    statement = _statement(tuple(delta.items()), tuple(sorted(fill)))
    parameters = {"run_id": run_id, "now": utcnow(), "etag": new_etag()}
    parameters |= {f"fill_{name}": value for name, value in fill.items()}
    await session.execute(statement, parameters)


async def count_job_status(
    session: AsyncSession,
    run_id: uuid.UUID | None,
    old: str | None,
    new: str | None,
    *,
    fill: Mapping[str, Any] | None = None,
) -> None:
    """Record that a job of `run_id` went from status `old` to `new` (None: absent)."""
    await count_job_moves(session, run_id, {(old, new): 1}, fill=fill)
