"""The NFSS API at `/nfss/api/v1/`: projects, their tests, and each test's data points.

Reads follow the server's read rules; a submission is signed with OAuth 1.0a by a client key
made with `aerodrome keys add` (whose generated script is the real client of this route).
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from starlette.responses import Response

from aerodrome.api.crud import ERRORS
from aerodrome.api.deps import DbSession, Reader
from aerodrome.api.listing import check_parameters
from aerodrome.api.responses import JSONResponse, pieced_json_response
from aerodrome.api.routing import Route
from aerodrome.errors import InvalidInput
from aerodrome.settings import Settings
from aerodrome.stats import keys, service
from aerodrome.stats.schemas import SeriesQuery, parse_time

router = APIRouter(prefix="/nfss/api/v1", tags=["nfss"], responses=ERRORS, route_class=Route)

ProjectName = Annotated[str, Path(max_length=255, pattern=service.NAME_PATTERN)]
TestName = Annotated[str, Path(max_length=255, pattern=service.NAME_PATTERN)]


def _point(row: dict[str, Any]) -> dict[str, Any]:
    return {"id": row["id"], "date_entered": row["date_entered"], "data": row["data"]}


@router.get("/", name="nfss_list_projects")
async def nfss_list_projects(session: DbSession, _reader: Reader) -> JSONResponse:
    """The projects that have data."""
    rows = await service.list_projects(session)
    return JSONResponse({"projects": [{"name": r["name"], "tests": r["tests"]} for r in rows]})


@router.get("/{project}/", name="nfss_list_tests")
@router.get("/{project}", name="nfss_list_tests_no_slash", include_in_schema=False)
async def nfss_list_tests(
    session: DbSession, _reader: Reader, project: ProjectName
) -> JSONResponse:
    """The tests of a project."""
    rows = await service.list_tests(session, project)
    return JSONResponse({"project": project, "tests": [{"name": r["name"]} for r in rows]})


@router.get("/{project}/{test}", name="nfss_list_points")
@router.get("/{project}/{test}/", name="nfss_list_points_slash", include_in_schema=False)
async def nfss_list_points(
    request: Request, session: DbSession, _reader: Reader, project: ProjectName, test: TestName
) -> Response:
    """`{"data": [{"id", "date_entered", "data"}]}` between `start_date` and `end_date`
    (default: the last 30 days); `max_points` downsamples, as on the native route."""
    check_parameters(request.query_params, {"start_date", "end_date", "max_points", "key"})
    query = SeriesQuery.from_params(request.query_params)
    series = await service.list_series(session, project=project, test=test, query=query)
    return pieced_json_response(request, series.parts(b'{"data":', b"}"))


@router.post("/{project}/{test}", name="nfss_create_point", status_code=201)
@router.post("/{project}/{test}/", name="nfss_create_point_slash", include_in_schema=False)
async def nfss_create_point(
    request: Request, session: DbSession, project: ProjectName, test: TestName
) -> JSONResponse:
    """Store a data point: the body is its JSON object; `date_entered` (query) defaults to now.
    The request must carry a valid OAuth 1.0a HMAC-SHA1 signature with a fresh nonce."""
    settings: Settings = request.app.state.settings
    raw = await request.body()
    try:
        body = raw.decode()
    except UnicodeDecodeError:
        raise InvalidInput("the body must be UTF-8 JSON") from None
    await keys.verify_signed_request(
        session,
        uri=str(request.url),
        method=request.method,
        body=body,
        headers=request.headers,
        window_seconds=settings.oauth_timestamp_window,
    )
    check_parameters(request.query_params, {"date_entered"})
    data = _json_object(raw)
    entered = request.query_params.get("date_entered")
    row = await service.add_point(
        session,
        project=project,
        test=test,
        data=data,
        date_entered=parse_time("date_entered", entered) if entered else None,
    )
    return JSONResponse(_point(row), status_code=201)


def _json_object(raw: bytes) -> dict[str, Any]:
    try:
        data = json.loads(raw)
    except ValueError:
        raise InvalidInput("the body is not valid JSON") from None
    if not isinstance(data, dict):
        raise InvalidInput("a data point must be a JSON object")
    return data
