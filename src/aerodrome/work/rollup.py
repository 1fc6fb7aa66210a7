"""Run roll-ups, kept up to date in the transaction of every job write.

Each job write moves one count from the old status's counter to the new one's with a single
relative UPDATE (`queued = queued - 1, pass = pass + 1`), so concurrent writers never lose a
count and reading a run never counts its jobs. The run's status is derived from the counters
in the same statement.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import ColumnElement, case, update
from sqlalchemy.ext.asyncio import AsyncSession

from aerodrome.work.models import Run
from aerodrome.work.status import RUN_COUNTER

_RUNS = Run.__table__
_C = _RUNS.c


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


async def count_job_status(
    session: AsyncSession, run_id: uuid.UUID | None, old: str | None, new: str | None
) -> None:
    """Record that a job of `run_id` went from status `old` to `new` (None: absent)."""
    if run_id is None:
        return
    before, after = RUN_COUNTER.get(old or ""), RUN_COUNTER.get(new or "")
    if before == after and (old is None) == (new is None):
        return
    delta = {name: 0 for name in ("queued", "waiting", "running", "pass", "fail", "dead")}
    delta |= {"unknown": 0, "total": (new is not None) - (old is not None)}
    if before:
        delta[before] -= 1
    if after:
        delta[after] += 1
    counts = {name: _C[name] + change for name, change in delta.items()}
    values: dict[Any, Any] = {_C[name]: counts[name] for name, change in delta.items() if change}
    values[_C.status] = _status_after(counts)
    await session.execute(update(_RUNS).where(_C.id == run_id).values(values))
