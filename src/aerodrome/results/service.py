"""Ingesting parsed test results, and reading them back.

Ingestion is a handful of set-based statements whatever the number of cases: one INSERT of the
summary, one multi-row INSERT of the cases, then regressions and fixes are marked by two UPDATEs
that match the cases against the previous comparable job's (same remoteci, topic, name and
configuration) by an indexed digest of (classname, name), and the summary takes their counts.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import ColumnElement, Select, delete, exists, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from aerodrome.db.resources import ListQuery, Page, Row, list_rows, not_archived
from aerodrome.db.types import utcnow
from aerodrome.errors import NotFound
from aerodrome.identity import access
from aerodrome.identity.principal import Identity
from aerodrome.results.models import TestCase, TestResult
from aerodrome.results.parsers import CaseRecord, ParsedResults
from aerodrome.results.resource import RESULTS
from aerodrome.work.service import JOBS, register_job_embed

results_table = TestResult.__table__
cases_table = TestCase.__table__
jobs_table = JOBS.table
FAILED = ("failure", "error")


def case_key(classname: str, name: str) -> str:
    """The digest that matches a case across jobs (a NUL cannot occur in either part)."""
    return hashlib.blake2b(f"{classname}\x00{name}".encode(), digest_size=16).hexdigest()


async def ingest(
    session: AsyncSession,
    *,
    file: Mapping[str, Any],
    job: Mapping[str, Any] | None,
    parsed: ParsedResults,
) -> Row:
    """Store the results of `file` (a job's file) and compare them with the previous job's."""
    result_id = uuid.uuid4()
    now = utcnow()
    summary = {
        "id": result_id,
        "created_at": now,
        "updated_at": now,
        "state": "active",
        "name": file["name"],
        "file_id": file["id"],
        "job_id": file["job_id"],
        "team_id": file["team_id"],
        "total": len(parsed.cases),
        "success": parsed.count("success"),
        "failures": parsed.count("failure"),
        "errors": parsed.count("error"),
        "skips": parsed.count("skipped"),
        "time": parsed.time,
        "regressions": 0,
        "successfixes": 0,
    }
    await session.execute(insert(results_table), [summary])
    if parsed.cases:
        await session.execute(insert(cases_table), _case_rows(result_id, parsed.cases))
    previous = await _previous_result(session, job, file["name"]) if job else None
    if previous is not None and parsed.cases:
        summary.update(await _compare(session, result_id, previous))
    return RESULTS.public_row(summary)


def _case_rows(result_id: uuid.UUID, cases: Sequence[CaseRecord]) -> list[dict[str, Any]]:
    return [
        {
            "result_id": result_id,
            "position": position,
            "suite": case.suite,
            "classname": case.classname,
            "name": case.name,
            "case_key": case_key(case.classname, case.name),
            "action": case.action,
            "time": case.time,
            "message": case.message,
            "type": case.type,
            "value": case.value,
            "regression": False,
            "successfix": False,
        }
        for position, case in enumerate(cases)
    ]


async def _previous_result(
    session: AsyncSession, job: Mapping[str, Any], name: str
) -> uuid.UUID | None:
    """The same-named result of the job run just before `job` by the same remoteci, on the
    same topic, with the same name and configuration."""
    if job.get("remoteci_id") is None:
        return None
    jobs = jobs_table.c
    previous_job = (
        select(jobs.id)
        .where(
            jobs.remoteci_id == job["remoteci_id"],
            _same(jobs.topic_id, job.get("topic_id")),
            _same(jobs.name, job.get("name")),
            _same(jobs.configuration, job.get("configuration")),
            jobs.created_at < job["created_at"],
            jobs.id != job["id"],
            not_archived(JOBS),
        )
        .order_by(jobs.created_at.desc(), jobs.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    stmt = (
        select(results_table.c.id)
        .where(results_table.c.job_id == previous_job, results_table.c.name == name)
        .order_by(results_table.c.created_at.desc())
        .limit(1)
    )
    found: uuid.UUID | None = (await session.execute(stmt)).scalar_one_or_none()
    return found


def _same(column: ColumnElement[Any], value: Any) -> ColumnElement[bool]:
    return column.is_(None) if value is None else column == value


async def _compare(
    session: AsyncSession, result_id: uuid.UUID, previous_id: uuid.UUID
) -> dict[str, int]:
    """Flag the cases that failed but passed before (regressions) and the reverse (fixes)."""
    before = cases_table.alias("before")
    current = cases_table.c

    def passed_before(actions: Sequence[str]) -> ColumnElement[bool]:
        return exists().where(
            before.c.result_id == previous_id,
            before.c.case_key == current.case_key,
            before.c.action.in_(actions),
        )

    mine = current.result_id == result_id
    await session.execute(
        update(cases_table)
        .where(mine, current.action.in_(FAILED), passed_before(["success"]))
        .values(regression=True)
    )
    await session.execute(
        update(cases_table)
        .where(mine, current.action == "success", passed_before(FAILED))
        .values(successfix=True)
    )
    counts = select(
        func.count().filter(current.regression).label("regressions"),
        func.count().filter(current.successfix).label("successfixes"),
    ).where(mine)
    row = (await session.execute(counts)).mappings().one()
    changes = {"regressions": int(row["regressions"]), "successfixes": int(row["successfixes"])}
    await session.execute(
        update(results_table).where(results_table.c.id == result_id).values(**changes)
    )
    return changes


async def list_job_results(
    session: AsyncSession, identity: Identity, job_id: uuid.UUID, query: ListQuery
) -> Page:
    """The results of a job the caller may see (the job's visibility is checked first)."""
    filters = (*query.filters, RESULTS.column("job_id") == job_id)
    scoped = ListQuery(query.limit, query.offset, filters, query.order_by, query.embeds)
    return await list_rows(session, RESULTS, scoped, access.scope_for(identity))


async def junit_view(session: AsyncSession, file: Mapping[str, Any]) -> dict[str, Any]:
    """A file's results as suites of cases, in file order (what `GET /files/<id>/junit`
    answers); the caller has already been allowed to see the file."""
    summary = (
        (await session.execute(select(results_table).where(results_table.c.file_id == file["id"])))
        .mappings()
        .first()
    )
    if summary is None:
        raise NotFound(f"file {file['id']} holds no test results", payload={"id": str(file["id"])})
    stmt = (
        select(cases_table)
        .where(cases_table.c.result_id == summary["id"])
        .order_by(cases_table.c.position)
    )
    cases = (await session.execute(stmt)).mappings().all()
    return {
        "id": str(summary["id"]),
        "name": summary["name"],
        **_totals(summary),
        "regressions": summary["regressions"],
        "successfixes": summary["successfixes"],
        "testsuites": _suites(cases),
    }


def _totals(summary: Mapping[Any, Any]) -> dict[str, Any]:
    return {
        "tests": summary["total"],
        "success": summary["success"],
        "failures": summary["failures"],
        "errors": summary["errors"],
        "skipped": summary["skips"],
        "time": summary["time"],
    }


_CASE_FIELDS = ("name", "classname", "time", "action", "message", "type", "value")


def _suites(cases: Sequence[Mapping[Any, Any]]) -> list[dict[str, Any]]:
    suites: dict[str, dict[str, Any]] = {}
    for case in cases:
        suite = suites.get(case["suite"])
        if suite is None:
            suite = suites[case["suite"]] = _new_suite(len(suites), case["suite"])
        suite["testcases"].append(
            {
                **{key: case[key] for key in _CASE_FIELDS},
                "regression": case["regression"],
                "successfix": case["successfix"],
            }
        )
        _count(suite, case)
    return list(suites.values())


def _new_suite(index: int, name: str) -> dict[str, Any]:
    totals = {"tests": 0, "success": 0, "failures": 0, "errors": 0, "skipped": 0, "time": 0.0}
    return {"id": index, "name": name, **totals, "testcases": []}


_SUITE_COUNTER = {
    "success": "success",
    "failure": "failures",
    "error": "errors",
    "skipped": "skipped",
}


def _count(suite: dict[str, Any], case: Mapping[Any, Any]) -> None:
    suite["tests"] += 1
    suite[_SUITE_COUNTER[case["action"]]] += 1
    suite["time"] += case["time"]


async def forget_files(session: AsyncSession, file_ids: Select[Any]) -> None:
    """Remove the results of these files (before the files themselves are purged)."""
    of_files = select(results_table.c.id).where(results_table.c.file_id.in_(file_ids))
    await session.execute(delete(cases_table).where(cases_table.c.result_id.in_(of_files)))
    await session.execute(delete(results_table).where(results_table.c.file_id.in_(file_ids)))


async def embed_job_results(session: AsyncSession, identity: Identity, found: list[Row]) -> None:
    """`embed=results` on jobs: each job's result summaries, with one query."""
    ids = [row["id"] for row in found]
    by_job: dict[Any, list[Row]] = {job_id: [] for job_id in ids}
    if ids:
        stmt = (
            select(results_table)
            .where(results_table.c.job_id.in_(ids), access.scope_for(identity)(RESULTS))
            .order_by(results_table.c.created_at)
        )
        for item in RESULTS.public_rows(await session.execute(stmt)):
            by_job[item["job_id"]].append(item)
    for row in found:
        row["results"] = by_job[row["id"]]


register_job_embed("results", embed_job_results)
