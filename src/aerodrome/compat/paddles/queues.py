"""paddles' `/queue/`: queues of jobs, their pauses and statistics, and the claim of the next job.

paddles names a queue by `queue` (formerly by `machine_type`); both are accepted, in the query
string or in a JSON body (paddles reads some of these GETs' parameters from a body).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from aerodrome.api.deps import DbSession
from aerodrome.api.listing import check_parameters
from aerodrome.api.responses import JSONResponse
from aerodrome.compat.paddles import common
from aerodrome.compat.paddles import translate as t
from aerodrome.compat.paddles.common import PaddlesCaller, WriteSession
from aerodrome.db.resources import Row
from aerodrome.errors import InvalidInput, NotFound
from aerodrome.work import queues


def queue_json(row: Row) -> dict[str, Any]:
    return {
        "queue": row["name"],
        "count": row.get("count"),
        "paused": queues.is_paused(row),
        "paused_by": row.get("paused_by"),
        "paused_since": t.format_time(row.get("paused_since")),
        "paused_until": t.format_time(row.get("paused_until")),
    }


async def _arguments(request: Request) -> dict[str, Any]:
    """The query parameters, over a JSON body if there is one."""
    body = await common.json_body(request)
    arguments = dict(body) if isinstance(body, dict) else {}
    arguments.update(request.query_params)
    return arguments


def _queue_name(arguments: Mapping[str, Any]) -> str:
    name = arguments.get("queue") or arguments.get("machine_type")
    if not isinstance(name, str) or not name.strip() or len(name) > 255 or "\x00" in name:
        raise InvalidInput("could not find required key: 'queue'")
    return name


async def list_queues(request: Request, session: DbSession, identity: PaddlesCaller) -> Response:
    """GET /queue/: every queue, optionally only the (un)paused ones."""
    params = request.query_params
    check_parameters(params, ("paused", "queue", "machine_type"))
    paused = common.boolean(params, "paused")
    wanted = params.get("queue") or params.get("machine_type")
    shown = [
        queue_json(row)
        for row in await queues.list_queues(session)
        if (paused is None or queues.is_paused(row) == paused)
        and (wanted is None or row["name"] == wanted)
    ]
    return JSONResponse(shown)


async def create_queue(request: Request, session: DbSession, identity: PaddlesCaller) -> Response:
    """POST /queue/ {"queue": name}"""
    arguments = await _arguments(request)
    row = await queues.create_queue(session, _queue_name(arguments))
    if "paused" in arguments:
        row = await _pause(session, row["name"], arguments)
    return JSONResponse(queue_json({**row, "count": 0}))


async def update_queue(request: Request, session: DbSession, identity: PaddlesCaller) -> Response:
    """PUT /queue/ {"queue", "paused", "paused_by", "pause_duration" (seconds)}"""
    arguments = await _arguments(request)
    row = await _pause(session, _queue_name(arguments), arguments)
    return JSONResponse(queue_json(await queues.queue_stats(session, row["name"])))


async def _pause(session: Any, name: str, arguments: Mapping[str, Any]) -> Row:
    paused = common.body_boolean(arguments, "paused")
    if paused is None:
        raise InvalidInput("could not find required key: 'paused'")
    paused_by = arguments.get("paused_by")
    if paused and (not isinstance(paused_by, str) or not paused_by or len(paused_by) > 255):
        raise InvalidInput("pausing a queue needs paused_by")
    duration = arguments.get("pause_duration")
    if duration is not None:
        try:
            duration = float(duration)
        except (TypeError, ValueError):
            raise InvalidInput("pause_duration must be a number of seconds") from None
        if not 0 < duration < 10 * 365 * 86400:
            raise InvalidInput("pause_duration must be a positive number of seconds")
    return await queues.pause_queue(
        session, name, paused=paused, paused_by=paused_by, duration=duration
    )


async def read(
    request: Request, session: DbSession, identity: PaddlesCaller, path: str
) -> Response:
    """GET /queue/stats/ and /queue/queued_jobs/."""
    segments = [segment for segment in path.split("/") if segment]
    arguments = await _arguments(request)
    if segments == ["stats"]:
        return JSONResponse(queue_json(await queues.queue_stats(session, _queue_name(arguments))))
    if segments == ["queued_jobs"]:
        owner = arguments.get("user")
        rows = await queues.queued_jobs(
            session, _queue_name(arguments), owner=owner if isinstance(owner, str) else None
        )
        return JSONResponse([t.job_json(row) for row in rows])
    raise NotFound("no such paddles resource")


async def pop_queue(
    request: Request, reader: DbSession, session: WriteSession, identity: PaddlesCaller
) -> Response:
    """GET (or POST) /queue/pop_queue/?queue=NAME: claim the next job; `null` if none."""
    common.require_writer(request, identity)
    if reader is not session:
        # A GET came with a read session (used for the credentials): hand its connection
        # back before the claim takes one, so claims cannot exhaust the pool holding two each.
        await reader.close()
    arguments = await _arguments(request)
    worker = arguments.get("worker") or identity.name
    if not isinstance(worker, str) or len(worker) > 255:
        raise InvalidInput("worker must be a name of at most 255 characters")
    row = await queues.pop_queue(
        session,
        _queue_name(arguments),
        claimed_by=worker,
        lease_seconds=common.settings_of(request).job_dead_after_seconds,
    )
    return JSONResponse(t.job_json(row) if row is not None else None)


def add_routes(router: APIRouter) -> None:
    for path in ("/queue", "/queue/"):
        router.add_api_route(path, list_queues, methods=["GET"])
        router.add_api_route(path, create_queue, methods=["POST"])
        router.add_api_route(path, update_queue, methods=["PUT"])
    for path in ("/queue/pop_queue", "/queue/pop_queue/"):
        router.add_api_route(path, pop_queue, methods=["GET", "POST"])
    router.add_api_route("/queue/{path:path}", read, methods=["GET"])
