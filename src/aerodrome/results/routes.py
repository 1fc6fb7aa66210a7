"""Result routes: `GET /jobs/<id>/results` and `GET /files/<id>/junit`."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from aerodrome.api import API_PREFIX
from aerodrome.api.crud import ERRORS, list_model, read_model
from aerodrome.api.deps import DbSession, Reader
from aerodrome.api.listing import parse_list_query
from aerodrome.api.responses import JSONResponse, list_response
from aerodrome.api.routing import Route
from aerodrome.db.resources import get_row
from aerodrome.files import service as files_service
from aerodrome.identity import access
from aerodrome.results import service
from aerodrome.results.resource import RESULTS
from aerodrome.work.service import JOBS

router = APIRouter(prefix=API_PREFIX, tags=["results"], route_class=Route)

RESULT_LIST = {200: {"model": list_model(RESULTS, read_model(RESULTS))}, **ERRORS}
JUNIT: dict[int | str, dict[str, Any]] = {
    200: {"description": "The file's test suites and cases"},
    **ERRORS,
}


@router.get("/jobs/{job_id}/results", name="list_job_results", responses=RESULT_LIST)
async def list_job_results(
    request: Request, session: DbSession, identity: Reader, job_id: str
) -> Response:
    """The test results of a job: one summary per results file."""
    query = parse_list_query(request.query_params, RESULTS)
    job = await get_row(session, JOBS, job_id, access.scope_for(identity))
    page = await service.list_job_results(session, identity, job["id"], query)
    return list_response("results", page.rows, page.count)


@router.get("/files/{file_id}/junit", name="get_file_junit", responses=JUNIT)
async def get_file_junit(session: DbSession, identity: Reader, file_id: str) -> Response:
    """A results file as suites of test cases, with regressions and fixes marked."""
    file = await files_service.get_file(session, identity, file_id)
    return JSONResponse(await service.junit_view(session, file))
