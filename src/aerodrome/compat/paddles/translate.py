"""paddles' words and shapes, to and from the core model.

paddles names job statuses `pass/fail/queued/running/dead/unknown/waiting`, writes timestamps as
`YYYY-MM-DD HH:MM:SS` (UTC), turns `.` and `-` in job keys into `_`, stores a fixed list of
job keys and ignores the rest, and answers `job_id` as a string.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Final

from aerodrome.db.resources import Row
from aerodrome.errors import InvalidInput
from aerodrome.work.run_jobs import JobWrite
from aerodrome.work.status import FROM_PADDLES, TO_PADDLES

PADDLES_STATUSES: Final = ("pass", "fail", "queued", "running", "dead", "unknown", "waiting")
# String columns a job's keys are promoted to, with their size.
_TEXT_COLUMNS: Final[Mapping[str, int | None]] = {
    "branch": 255,
    "suite": 255,
    "sha1": 64,
    "machine_type": 255,
    "os_type": 64,
    "os_version": 64,
    "description": None,
    "owner": 255,
}
# The job keys paddles stores (both seed READMEs, and what current teuthology sends).
JOB_KEYS: Final = frozenset(
    {
        *_TEXT_COLUMNS,
        "archive_path",
        "duration",
        "email",
        "failure_reason",
        "flavor",
        "job_id",
        "kernel",
        "last_in_suite",
        "mon_a_kernel_sha1",
        "mon_b_kernel_sha1",
        "name",
        "no_nested_subset",
        "nuke_on_error",
        "overrides",
        "pcp_grafana_url",
        "pid",
        "priority",
        "queue",
        "roles",
        "seed",
        "sentry_event",
        "sleep_before_teardown",
        "started",
        "status",
        "subset",
        "success",
        "suite_branch",
        "suite_path",
        "suite_relpath",
        "suite_repo",
        "suite_sha1",
        "targets",
        "tasks",
        "teuthology_branch",
        "teuthology_sha1",
        "timestamp",
        "user",
        "verbose",
    }
)
# Keys that are not kept in `data`: promoted to columns, or the server's own.
_NOT_DATA: Final = frozenset(
    {*_TEXT_COLUMNS, "duration", "priority", "started", "job_id", "status", "success", "name"}
)


_UNSET_JOB: Final[Mapping[str, None]] = dict.fromkeys(sorted(JOB_KEYS))


def format_time(value: datetime | str | None) -> str | None:
    """`YYYY-MM-DD HH:MM:SS` in UTC (isoformat is several times faster than strftime); the
    statements of runs and their jobs already return their timestamps so."""
    if value is None or isinstance(value, str):
        return value
    if value.tzinfo is not UTC:
        value = value.astimezone(UTC)
    return value.isoformat(" ", "seconds")[:19]


def parse_time(name: str, value: Any) -> datetime:
    """paddles' `YYYY-MM-DD HH:MM:SS` (UTC), or any ISO-8601 timestamp."""
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.strip())
        except ValueError:
            pass
        else:
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    raise InvalidInput(f"{name} must be a timestamp like 2024-01-31 23:59:59, got {value!r}")


def canonical_statuses(word: str) -> list[str]:
    """The canonical statuses a paddles status word stands for."""
    if word not in PADDLES_STATUSES:
        raise InvalidInput(
            f"unknown status {word!r}; valid statuses: {', '.join(PADDLES_STATUSES)}"
        )
    return [status for status, shown in TO_PADDLES.items() if shown == word]


def _status(body: Mapping[str, Any]) -> str | None:
    """The canonical status a job body asks for (`status` wins over `success`)."""
    if "status" in body:
        word = body["status"]
        if word not in FROM_PADDLES:
            valid = ", ".join(PADDLES_STATUSES)
            raise InvalidInput(f"unknown status {word!r}; valid statuses: {valid}")
        return FROM_PADDLES[word]
    if "success" in body:
        success = body["success"]
        if success is not None and not isinstance(success, bool):
            raise InvalidInput(f"success must be true, false or null, got {success!r}")
        return {True: "success", False: "failure", None: "unknown"}[success]
    return None


def _text(name: str, value: Any, size: int | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise InvalidInput(f"{name} must be a string, got {value!r}")
    text = str(value)
    if size is not None and len(text) > size:
        raise InvalidInput(f"{name} is longer than {size} characters")
    return text


def _number(name: str, value: Any, kind: type[int] | type[float]) -> Any:
    if value is None:
        return None
    try:
        if isinstance(value, bool):
            raise ValueError
        number = kind(value)
    except (TypeError, ValueError):
        raise InvalidInput(f"{name} must be a number, got {value!r}") from None
    if isinstance(number, float) and not math.isfinite(number):
        raise InvalidInput(f"{name} must be a finite number")
    if kind is int and not -(2**31) <= number < 2**31:
        raise InvalidInput(f"{name} is out of range")
    return number


def _columns(body: Mapping[str, Any]) -> dict[str, Any]:
    columns: dict[str, Any] = {
        name: _text(name, body[name], size) for name, size in _TEXT_COLUMNS.items() if name in body
    }
    if "duration" in body:
        columns["duration"] = _number("duration", body["duration"], float)
    if body.get("priority") is not None:
        columns["priority"] = _number("priority", body["priority"], int)
    if body.get("started") is not None:
        columns["started"] = parse_time("started", body["started"])
    return columns


def _targets(value: Any) -> list[str] | None:
    """Node names from teuthology's `targets` ({"user@host": ssh key}); None if absent."""
    if value is None:
        return None
    if not isinstance(value, Mapping | list):
        raise InvalidInput("targets must be an object of host names")
    hosts = [str(host).rpartition("@")[2] for host in value]
    if any(not host or len(host) > 255 for host in hosts):
        raise InvalidInput("targets must name hosts of at most 255 characters")
    return hosts


def job_write(body: Any) -> JobWrite:
    """Translate a paddles job body; keys outside paddles' list are ignored."""
    if not isinstance(body, Mapping):
        raise InvalidInput("the request body must be a JSON object")
    if _has_nul(body):
        raise InvalidInput("strings may not contain NUL (\\u0000) characters")
    known = {
        key.replace(".", "_").replace("-", "_"): value
        for key, value in body.items()
        if key.replace(".", "_").replace("-", "_") in JOB_KEYS
    }
    job_id = known.get("job_id")
    if job_id is not None and (isinstance(job_id, bool) or not isinstance(job_id, str | int)):
        raise InvalidInput(f"job_id must be a string or an integer, got {job_id!r}")
    if job_id is not None and not 0 < len(str(job_id)) <= 64:
        raise InvalidInput("job_id must have 1 to 64 characters")
    queue = _text("queue", known.get("queue"), 255)
    return JobWrite(
        job_id=str(job_id) if job_id is not None else None,
        status=_status(known),
        columns=_columns(known),
        data={key: value for key, value in known.items() if key not in _NOT_DATA},
        targets=_targets(known.get("targets")),
        queue=queue or (known.get("machine_type") if known.get("status") == "queued" else None),
    )


def job_json(row: Row, fields: Sequence[str] | None = None) -> dict[str, Any]:
    """A job as paddles shows it: its stored keys plus the server's own."""
    status = TO_PADDLES.get(row["status"], "unknown")
    # paddles shows every job key, unset ones as null, and teuthology indexes some of them
    # directly (the supervisor reads `failure_reason` of a node's last jobs).
    shown: dict[str, Any] = {**_UNSET_JOB, **(row.get("data") or {})}
    shown.update({name: row.get(name) for name in _TEXT_COLUMNS})
    shown.update(
        job_id=row["run_job_id"],
        name=row.get("run_name"),
        status=status,
        success={"pass": True, "fail": False, "dead": False}.get(status),
        duration=row.get("duration"),
        priority=row.get("priority"),
        posted=format_time(row.get("posted") or row.get("created_at")),
        updated=format_time(row.get("updated_at")),
        started=format_time(row.get("started")),
    )
    if fields:
        return {name: shown.get(name) for name in fields}
    return shown


def run_json(row: Row, base_url: str, jobs: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """A run as current paddles shows it, with its incrementally kept results."""
    results = {
        name: row[name]
        for name in ("queued", "pass", "running", "waiting", "fail", "dead", "unknown", "total")
    }
    shown: dict[str, Any] = {
        "name": row["name"],
        "href": f"{base_url}/runs/{row['name']}/",
        "user": row.get("user"),
        "status": row["status"],
        "results": results,
        "jobs_count": row["total"],
        "posted": format_time(row["created_at"]),
        "scheduled": format_time(row.get("scheduled")),
        "started": format_time(row.get("started")),
        "updated": format_time(row["updated_at"]),
        **{key: row.get(key) for key in ("branch", "suite", "machine_type", "sha1", "flavor")},
        "priority": row.get("priority"),
    }
    if jobs is not None:
        shown["jobs"] = jobs
    return shown


def project(item: dict[str, Any], fields: Sequence[str] | None) -> dict[str, Any]:
    return {name: item.get(name) for name in fields} if fields else item


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, Mapping):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(item) for item in value)
    return False
