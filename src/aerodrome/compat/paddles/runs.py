"""paddles' `/runs/` tree and `/jobs/` search, translated onto the work services."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import Response

from aerodrome.api.deps import DbSession
from aerodrome.api.listing import check_parameters, integer_parameter
from aerodrome.api.response_cache import keepable
from aerodrome.api.responses import JSONResponse
from aerodrome.compat.paddles import common
from aerodrome.compat.paddles import translate as t
from aerodrome.compat.paddles.common import PaddlesCaller
from aerodrome.errors import InvalidInput, NotFound
from aerodrome.identity.principal import Identity
from aerodrome.work import run_jobs, runs

LIST_PARAMETERS = ("count", "page", "since", "fields")
MAX_COUNT = 1000
FINISHED_RUNS = ["finished pass", "finished fail", "finished dead"]
# `/jobs/` search: query parameter → promoted job column.
JOB_SEARCH = ("branch", "suite", "sha1", "machine_type", "os_type", "os_version", "owner")


@dataclass
class Tree:
    """A parsed filter path: `/runs/branch/X/suite/Y/date/from/D1/to/D2/queued/…`."""

    equals: dict[str, Any] = field(default_factory=dict)
    scheduled_from: Any = None
    scheduled_before: Any = None
    with_queued_jobs: bool = False
    listing: str | None = None  # a trailing key without value: list that key's values


def _date_range(segments: Sequence[str], tree: Tree) -> int:
    """Parse `D` or `from/D1[/to/D2]` after `date`; returns how many segments it used."""
    if not segments:
        raise NotFound("a date filter needs a date: /date/YYYY-MM-DD/")
    if segments[0] != "from":
        tree.scheduled_from = common.parse_day("date", segments[0])
        tree.scheduled_before = tree.scheduled_from + common.ONE_DAY
        return 1
    if len(segments) < 2:
        raise NotFound("a date range needs a start: /date/from/YYYY-MM-DD/")
    tree.scheduled_from = common.parse_day("from", segments[1])
    if len(segments) >= 4 and segments[2] == "to":
        tree.scheduled_before = common.parse_day("to", segments[3]) + common.ONE_DAY
        return 4
    return 2


def parse_tree(segments: Sequence[str]) -> Tree:
    tree, position = Tree(), 0
    while position < len(segments):
        key, rest = segments[position], segments[position + 1 :]
        if key == "queued":
            tree.with_queued_jobs, position = True, position + 1
        elif key == "date":
            position += 1 + _date_range(rest, tree)
        elif key in runs.RUN_FILTERS and not rest:
            tree.listing, position = key, position + 1
        elif key in runs.RUN_FILTERS:
            value = rest[0]
            if key == "status" and value == "finished":
                tree.equals[key] = FINISHED_RUNS
            else:
                tree.equals[key] = value
            position += 2
        else:
            raise NotFound(f"unknown run filter {key!r}")
    return tree


def _run_filter(tree: Tree, params: Mapping[str, str]) -> runs.RunFilter:
    since = params.get("since")
    return runs.RunFilter(
        equals=tree.equals,
        scheduled_from=tree.scheduled_from,
        scheduled_before=tree.scheduled_before,
        updated_since=common.parse_since(since) if since else None,
        with_queued_jobs=tree.with_queued_jobs,
    )


def _page(params: Mapping[str, str]) -> tuple[int, int]:
    count = integer_parameter(params, "count", 100, 1, MAX_COUNT)
    page = integer_parameter(params, "page", 1, 1, 1_000_000)
    return count, (page - 1) * count


class RunsFacade:
    """The `/runs/` handlers of one mount point (`/paddles` or the root)."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix

    def base_url(self, request: Request) -> str:
        return str(request.base_url).rstrip("/") + self.prefix

    async def list_runs(
        self, request: Request, session: AsyncSession, identity: Identity, tree: Tree
    ) -> Response:
        params = request.query_params
        check_parameters(params, LIST_PARAMETERS)
        filters = _run_filter(tree, params)
        if tree.listing is not None:
            values = await runs.run_values(session, identity, tree.listing, filters)
            return JSONResponse(values)
        count, offset = _page(params)
        rows = await runs.list_runs(session, identity, filters, limit=count, offset=offset)
        base, fields = self.base_url(request), common.fields_param(params)
        return JSONResponse([t.project(t.run_json(row, base), fields) for row in rows])

    async def show_run(
        self, request: Request, session: AsyncSession, identity: Identity, name: str
    ) -> Response:
        if request.method == "HEAD":
            exists = await runs.run_exists(session, identity, name)
            return Response(status_code=200 if exists else 404)
        check_parameters(request.query_params, ("fields",))
        run = await runs.get_run(session, identity, name)
        jobs = [
            t.job_json({**job, "run_name": name})
            for job in await runs.list_run_jobs(session, run["id"])
        ]
        shown = t.run_json(run, self.base_url(request), jobs)
        return JSONResponse(t.project(shown, common.fields_param(request.query_params)))

    async def list_jobs(
        self, request: Request, session: AsyncSession, identity: Identity, name: str
    ) -> Response:
        params = request.query_params
        check_parameters(params, ("status", "fields"))
        statuses = t.canonical_statuses(params["status"]) if params.get("status") else None
        run = await runs.get_run(session, identity, name)
        rows = await runs.list_run_jobs(session, run["id"], statuses)
        fields = common.fields_param(params)
        if fields and "job_id" not in fields:
            fields.append("job_id")
        return JSONResponse([t.job_json({**row, "run_name": name}, fields) for row in rows])

    async def show_job(
        self, request: Request, session: AsyncSession, identity: Identity, name: str, job_id: str
    ) -> Response:
        check_parameters(request.query_params, ("fields",))
        row = await run_jobs.get_job(session, identity, name, job_id)
        return JSONResponse(t.job_json(row, common.fields_param(request.query_params)))

    @keepable
    async def read_root(
        self, request: Request, session: DbSession, identity: PaddlesCaller
    ) -> Response:
        """GET /runs/: the latest runs (`count`, `page`, `since`, `fields`)."""
        return await self.list_runs(request, session, identity, Tree())

    @keepable
    async def read(
        self, request: Request, session: DbSession, identity: PaddlesCaller, path: str
    ) -> Response:
        """GET and HEAD below `/runs/`: a run, its jobs, a job, or a filter tree."""
        segments = [segment for segment in path.split("/") if segment]
        if not segments:
            return await self.list_runs(request, session, identity, Tree())
        head = segments[0]
        if head in runs.RUN_FILTERS or head in ("date", "queued"):
            return await self.list_runs(request, session, identity, parse_tree(segments))
        if len(segments) == 1:
            return await self.show_run(request, session, identity, head)
        if segments[1] == "jobs" and len(segments) == 2:
            return await self.list_jobs(request, session, identity, head)
        if segments[1] == "jobs" and len(segments) == 3:
            return await self.show_job(request, session, identity, head, segments[2])
        raise NotFound("no such paddles resource")

    async def create_run(
        self, request: Request, session: DbSession, identity: PaddlesCaller
    ) -> Response:
        """POST /runs/ {"name": ...}"""
        body = common.json_object(await common.json_body(request))
        name = body.get("name")
        if not isinstance(name, str) or not name.strip():
            raise InvalidInput("could not find required key: 'name'")
        run = await runs.create_run(session, identity, name)
        return JSONResponse(t.run_json(run, self.base_url(request)))

    async def write(
        self, request: Request, session: DbSession, identity: PaddlesCaller, path: str
    ) -> Response:
        """POST, PUT and DELETE below `/runs/`: jobs, and whole runs."""
        segments = [segment for segment in path.split("/") if segment]
        method = request.method
        if method == "DELETE" and len(segments) == 1:
            await runs.delete_run(session, identity, segments[0])
            return JSONResponse({})
        if len(segments) < 2 or segments[1] != "jobs" or len(segments) > 3:
            raise NotFound("no such paddles resource")
        name = segments[0]
        if method == "POST" and len(segments) == 2:
            write = t.job_write(await common.json_body(request))
            row = await run_jobs.create_job(session, identity, name, write)
            return JSONResponse(t.job_json(row))
        if method == "PUT" and len(segments) == 3:
            write = t.job_write(await common.json_body(request))
            row = await run_jobs.update_job(session, identity, name, segments[2], write)
            return JSONResponse(t.job_json(row))
        if method == "DELETE" and len(segments) == 3:
            await run_jobs.delete_job(session, identity, name, segments[2])
            return JSONResponse({})
        raise NotFound("no such paddles resource")

    @keepable
    async def search_jobs(
        self, request: Request, session: DbSession, identity: PaddlesCaller
    ) -> Response:
        """GET /jobs/: jobs of every run, latest first, by status and promoted fields."""
        params = request.query_params
        allowed = ("status", "count", "page", "fields", "since", *JOB_SEARCH)
        check_parameters(params, allowed)
        count, offset = _page(params)
        since = params.get("since")
        filters = run_jobs.JobFilter(
            equals={name: params[name] for name in JOB_SEARCH if params.get(name)},
            statuses=t.canonical_statuses(params["status"]) if params.get("status") else None,
            posted_since=common.parse_since(since) if since else None,
        )
        rows = await run_jobs.search_jobs(session, identity, filters, limit=count, offset=offset)
        fields = common.fields_param(params)
        return JSONResponse([t.job_json(row, fields) for row in rows])


def add_routes(router: APIRouter, facade: RunsFacade, *, with_jobs_search: bool) -> None:
    """The `/runs` routes (with and without trailing slash) on `router`."""
    for path in ("/runs", "/runs/"):
        router.add_api_route(path, facade.read_root, methods=["GET", "HEAD"])
        router.add_api_route(path, facade.create_run, methods=["POST"])
    router.add_api_route("/runs/{path:path}", facade.read, methods=["GET", "HEAD"])
    router.add_api_route("/runs/{path:path}", facade.write, methods=["POST", "PUT", "DELETE"])
    if with_jobs_search:
        for path in ("/jobs", "/jobs/"):
            router.add_api_route(path, facade.search_jobs, methods=["GET"])
