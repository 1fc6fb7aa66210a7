"""Native stats routes: `/api/v1/stats/projects/{project}/tests/{test}/points`."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Path, Request
from starlette.responses import Response

from aerodrome.api import API_PREFIX
from aerodrome.api.crud import ERRORS
from aerodrome.api.deps import Caller, DbSession, Reader
from aerodrome.api.listing import check_parameters
from aerodrome.api.responses import JSONResponse, list_response, pieced_json_response
from aerodrome.api.routing import Route
from aerodrome.stats import service
from aerodrome.stats.schemas import SeriesQuery, parse_time

router = APIRouter(
    prefix=f"{API_PREFIX}/stats", tags=["stats"], responses=ERRORS, route_class=Route
)

ProjectName = Annotated[str, Path(max_length=255, pattern=service.NAME_PATTERN)]
TestName = Annotated[str, Path(max_length=255, pattern=service.NAME_PATTERN)]
SERIES_PARAMETERS = {"start_date", "end_date", "max_points", "key"}


@router.get("/projects", name="list_stats_projects")
async def list_stats_projects(session: DbSession, _reader: Reader) -> JSONResponse:
    """Every project, with its number of tests."""
    rows = await service.list_projects(session)
    return list_response("projects", rows, len(rows))


@router.get("/projects/{project}/tests", name="list_stats_tests")
async def list_stats_tests(
    session: DbSession, _reader: Reader, project: ProjectName
) -> JSONResponse:
    """The tests of a project."""
    rows = await service.list_tests(session, project)
    return list_response("tests", rows, len(rows))


@router.get("/projects/{project}/tests/{test}/points", name="list_stats_points")
async def list_stats_points(
    request: Request, session: DbSession, _reader: Reader, project: ProjectName, test: TestName
) -> Response:
    """The points of a test in [start_date, end_date) (default: the last 30 days), oldest
    first; `max_points=N` downsamples in the database, keeping per time bucket the points
    with the smallest and largest `key` (or the first and last point without `key`)."""
    check_parameters(request.query_params, SERIES_PARAMETERS)
    query = SeriesQuery.from_params(request.query_params)
    series = await service.list_series(session, project=project, test=test, query=query)
    parts = series.parts(b'{"points":', b',"_meta":{"count":%d}}' % series.count)
    return pieced_json_response(request, parts)


@router.post("/projects/{project}/tests/{test}/points", name="create_stats_point", status_code=201)
async def create_stats_point(
    session: DbSession,
    _caller: Caller,
    project: ProjectName,
    test: TestName,
    data: Annotated[dict[str, Any], Body()],
    date_entered: str | None = None,
) -> JSONResponse:
    """Store a data point (any JSON object); its project and test are created as needed."""
    entered = parse_time("date_entered", date_entered) if date_entered else None
    row = await service.add_point(
        session, project=project, test=test, data=data, date_entered=entered
    )
    return JSONResponse({"point": row}, status_code=201)
