"""`/jobs_events`: the job change feed, read from a sequence number."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query
from starlette.responses import Response

from aerodrome.api import API_PREFIX
from aerodrome.api.crud import ERRORS
from aerodrome.api.deps import Caller, DbSession, IfMatch, Reader
from aerodrome.api.listing import DEFAULT_LIMIT, MAX_LIMIT, MAX_OFFSET
from aerodrome.api.responses import JSONResponse, list_response
from aerodrome.api.routing import Route
from aerodrome.events import service as events_service
from aerodrome.events.schemas import SequenceUpdate

router = APIRouter(prefix=API_PREFIX, tags=["events"], route_class=Route)


@router.get("/jobs_events/sequence", name="get_jobs_events_sequence", responses=ERRORS)
async def get_jobs_events_sequence(session: DbSession, identity: Caller) -> Response:
    """The saved position of the feed's consumer, with its etag."""
    row = await events_service.get_sequence(session, identity)
    return JSONResponse({"sequence": row}, headers={"ETag": row["etag"]})


@router.put("/jobs_events/sequence", name="set_jobs_events_sequence", responses=ERRORS)
async def set_jobs_events_sequence(
    session: DbSession, identity: Caller, if_match: IfMatch, body: SequenceUpdate
) -> Response:
    """Save the consumer's position (super admins; needs If-Match)."""
    row = await events_service.set_sequence(
        session, identity, sequence=body.sequence, if_match=if_match
    )
    return JSONResponse({"sequence": row}, headers={"ETag": row["etag"]})


@router.get("/jobs_events/{sequence}", name="list_jobs_events", responses=ERRORS)
async def list_jobs_events(
    session: DbSession,
    identity: Reader,
    sequence: Annotated[int, Path(ge=0, le=MAX_OFFSET)],
    limit: int = Query(default=DEFAULT_LIMIT, ge=1, le=MAX_LIMIT),
    offset: int = Query(default=0, ge=0, le=MAX_OFFSET),
) -> Response:
    """The job events numbered above `sequence` that the caller may see, oldest first."""
    page = await events_service.list_job_events(
        session, identity, after=sequence, limit=limit, offset=offset
    )
    return list_response("jobs_events", page.rows, page.count)


@router.delete(
    "/jobs_events/{sequence}", name="trim_jobs_events", status_code=204, responses=ERRORS
)
async def trim_jobs_events(
    session: DbSession, identity: Caller, sequence: Annotated[int, Path(ge=0, le=MAX_OFFSET)]
) -> Response:
    """Remove the events numbered `sequence` and below (super admins)."""
    await events_service.trim_job_events(session, identity, upto=sequence)
    return Response(status_code=204)
