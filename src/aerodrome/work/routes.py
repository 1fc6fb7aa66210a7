"""Work routes: `/jobs` (with schedule, update, upgrade, recheck, key/values, job states),
`/jobstates`, `/pipelines` (DCI's name for runs) and `/jobdefinitions`."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from starlette.responses import Response

from aerodrome.api import API_PREFIX
from aerodrome.api.crud import ERRORS, envelope, list_model, read_model, register_crud
from aerodrome.api.deps import Caller, DbSession, IfMatch, Reader
from aerodrome.api.listing import check_parameters, parse_list_query
from aerodrome.api.response_cache import keepable
from aerodrome.api.responses import JSONResponse, item_response, list_response
from aerodrome.api.routing import Route
from aerodrome.db.resources import ListQuery
from aerodrome.errors import InvalidInput
from aerodrome.work import scheduling, schemas
from aerodrome.work import service as work_service
from aerodrome.work.service import (
    JOBS,
    JOBSTATES,
    job_service,
    jobdefinition_service,
    jobstate_service,
    pipeline_service,
)

router = APIRouter(prefix=API_PREFIX, tags=["work"], route_class=Route)

_JOB = read_model(JOBS)
_ONE_JOB = {200: {"model": envelope("job", _JOB)}, **ERRORS}
_CREATED_JOB = {201: {"model": envelope("job", _JOB)}, **ERRORS}


def _job_list_query(request: Request) -> tuple[ListQuery, tuple[str, ...]]:
    """The list parameters of a job list; `embed` also takes components, files, results."""
    params = {k: v for k, v in request.query_params.items() if k != "embed"}
    embeds = work_service.parse_job_embeds(request.query_params.get("embed", ""))
    return parse_list_query(params, JOBS), embeds


@router.get(
    "/jobs",
    name="list_jobs",
    responses={200: {"model": list_model(JOBS, _JOB)}, **ERRORS},
)
@keepable
async def list_jobs(request: Request, session: DbSession, identity: Reader) -> Response:
    """Jobs of the caller's teams (all of them for super admins and read-all teams)."""
    query, embeds = _job_list_query(request)
    page = await job_service.list_jobs(session, identity, query, embeds)
    return list_response("jobs", page.rows, page.count)


@router.post("/jobs", name="create_job", status_code=201, responses=_CREATED_JOB)
async def create_job(session: DbSession, identity: Caller, body: schemas.JobCreate) -> Response:
    """A job of a remoteci (the caller, or `remoteci_id`) on a topic, with given components."""
    job = await job_service.create(session, identity, body)
    return item_response("job", job, status_code=201)


@router.post("/jobs/schedule", name="schedule_job", status_code=201, responses=_CREATED_JOB)
async def schedule_job(session: DbSession, identity: Caller, body: schemas.JobSchedule) -> Response:
    """The next job of the calling remoteci; 412 when there is nothing to run."""
    job = await scheduling.schedule(session, identity, body)
    return item_response("job", job, status_code=201)


@router.post("/jobs/upgrade", name="upgrade_job", status_code=201, responses=_CREATED_JOB)
async def upgrade_job(session: DbSession, identity: Caller, body: schemas.JobUpgrade) -> Response:
    """A new job running the same test on the topic that follows the job's topic."""
    job = await scheduling.upgrade_job(session, identity, body.job_id)
    return item_response("job", job, status_code=201)


@router.get("/jobs/purge", name="list_archived_jobs", responses=ERRORS)
async def list_archived_jobs(session: DbSession, identity: Caller) -> Response:
    """Archived jobs, waiting to be purged (super admins)."""
    found = await job_service.list_archived(session, identity)
    return list_response("jobs", found, len(found))


@router.post("/jobs/purge", name="purge_jobs", status_code=204, responses=ERRORS)
async def purge_jobs(session: DbSession, identity: Caller) -> Response:
    """Remove archived jobs for good (super admins)."""
    await job_service.purge(session, identity)
    return Response(status_code=204)


@router.get("/jobs/{job_id}", name="get_job", responses=_ONE_JOB)
@keepable
async def get_job(request: Request, session: DbSession, identity: Reader, job_id: str) -> Response:
    """One job, always with its components and key/values; `embed` adds more."""
    check_parameters(request.query_params, {"embed"})
    embeds = work_service.parse_job_embeds(request.query_params.get("embed", ""))
    job = await job_service.show_job(session, identity, job_id, embeds)
    return item_response("job", job)


@router.put("/jobs/{job_id}", name="update_job", responses=_ONE_JOB)
async def update_job(
    session: DbSession,
    identity: Caller,
    if_match: IfMatch,
    job_id: str,
    body: schemas.JobUpdate,
) -> Response:
    """Change a job (needs If-Match); a new `status` is recorded as a job state."""
    job = await job_service.update(session, identity, job_id, if_match=if_match, data=body)
    return item_response("job", job)


@router.delete("/jobs/{job_id}", name="delete_job", status_code=204, responses=ERRORS)
async def delete_job(
    session: DbSession, identity: Caller, if_match: IfMatch, job_id: str
) -> Response:
    """Archive a job (needs If-Match); `/jobs/purge` removes it for good."""
    await job_service.delete(session, identity, job_id, if_match=if_match)
    return Response(status_code=204)


@router.post(
    "/jobs/{job_id}/update", name="update_job_components", status_code=201, responses=_CREATED_JOB
)
async def update_job_components(session: DbSession, identity: Caller, job_id: str) -> Response:
    """A new job running the same test on the same topic with its newest components."""
    job = await scheduling.update_job(session, identity, job_id)
    return item_response("job", job, status_code=201)


@router.post("/jobs/{job_id}/recheck", name="recheck_job", status_code=201, responses=_CREATED_JOB)
async def recheck_job(session: DbSession, identity: Caller, job_id: str) -> Response:
    """Run a job again: a new job with the same topic, definition and components."""
    job = await scheduling.recheck_job(session, identity, job_id)
    return item_response("job", job, status_code=201)


@router.get("/jobs/{job_id}/components", name="list_job_components", responses=ERRORS)
async def list_job_components(session: DbSession, identity: Reader, job_id: str) -> Response:
    job = await job_service.show_job(session, identity, job_id, ())
    return list_response("components", job["components"], len(job["components"]))


@router.get("/jobs/{job_id}/jobstates", name="list_job_jobstates", responses=ERRORS)
async def list_job_jobstates(
    request: Request, session: DbSession, identity: Reader, job_id: str
) -> Response:
    """The job's status history, oldest first."""
    query = parse_list_query(request.query_params, JOBSTATES)
    page = await jobstate_service.list_for_job(session, identity, job_id, query)
    return list_response("jobstates", page.rows, page.count)


@router.get("/jobs/{job_id}/kv", name="list_job_keyvalues", responses=ERRORS)
async def list_job_keyvalues(session: DbSession, identity: Reader, job_id: str) -> Response:
    job = await job_service.get(session, identity, job_id)
    found = await work_service.list_keyvalues(session, job["id"])
    return list_response("kvs", found, len(found))


@router.post("/jobs/{job_id}/kv", name="set_job_keyvalue", status_code=201, responses=ERRORS)
async def set_job_keyvalue(
    session: DbSession, identity: Caller, job_id: str, body: schemas.KeyValueCreate
) -> Response:
    """Record a named figure of the job (replacing the previous value of that key)."""
    row = await work_service.set_keyvalue(
        session, identity, job_id, name=body.key, value=body.value
    )
    return JSONResponse({"kv": row}, status_code=201)


@router.delete("/jobs/{job_id}/kv", name="delete_job_keyvalue", status_code=204, responses=ERRORS)
async def delete_job_keyvalue(
    session: DbSession, identity: Caller, job_id: str, body: schemas.KeyValueDelete
) -> Response:
    await work_service.delete_keyvalue(session, identity, job_id, name=body.key)
    return Response(status_code=204)


_SEARCH_PAGING = {"sort", "limit", "offset"}


async def search_jobs(request: Request, session: DbSession, identity: Reader) -> Response:
    """DCI's job analytics (`dcictl job-search --query "(topic.name='OCP-4.19')"`), answered
    in the Elasticsearch shape DCI returns: `hits.total.value` and `hits.hits[]._source`.
    `includes`/`excludes` keep or drop top-level fields of each job."""
    params = request.query_params
    check_parameters(params, {"query", "includes", "excludes", "json-aggs", *_SEARCH_PAGING})
    if "json-aggs" in params:
        raise InvalidInput("aggregations (json-aggs) are not supported")
    text = params.get("query")
    if not text:
        raise InvalidInput("a query parameter is required")
    paging = {k: v for k, v in params.items() if k in _SEARCH_PAGING}
    query = parse_list_query(paging, JOBS)
    page = await work_service.search_jobs(session, identity, text, query)
    includes = [f for f in params.get("includes", "").split(",") if f]
    excludes = set(filter(None, params.get("excludes", "").split(",")))
    hits = [
        {
            "_index": "jobs",
            "_id": job["id"],
            "_source": {
                k: v
                for k, v in job.items()
                if (not includes or k in includes) and k not in excludes
            },
        }
        for job in page.rows
    ]
    return JSONResponse({"hits": {"total": {"value": page.count, "relation": "eq"}, "hits": hits}})


# dciclient POSTs its search with the query in the URL; a browser or curl may GET it.
for method in ("GET", "POST"):
    router.add_api_route(
        "/analytics/jobs",
        search_jobs,
        methods=[method],
        name=f"search_jobs_{method.lower()}",
        responses=ERRORS,
    )


@router.get("/jobstates", name="list_jobstates", responses=ERRORS)
async def list_jobstates(request: Request, session: DbSession, identity: Reader) -> Response:
    query = parse_list_query(request.query_params, JOBSTATES)
    page = await jobstate_service.list(session, identity, query)
    return list_response("jobstates", page.rows, page.count)


@router.post("/jobstates", name="create_jobstate", status_code=201, responses=ERRORS)
async def create_jobstate(
    session: DbSession, identity: Caller, body: schemas.JobstateCreate
) -> Response:
    """Append to a job's history: the job moves to `status` (its etag and duration follow)."""
    jobstate = await jobstate_service.create(session, identity, body)
    return JSONResponse({"jobstate": jobstate}, status_code=201)


@router.get("/jobstates/{jobstate_id}", name="get_jobstate", responses=ERRORS)
async def get_jobstate(session: DbSession, identity: Reader, jobstate_id: uuid.UUID) -> Response:
    jobstate = await jobstate_service.get(session, identity, jobstate_id)
    return JSONResponse({"jobstate": jobstate})


@router.get("/pipelines/{pipeline_id}/jobs", name="list_pipeline_jobs", responses=ERRORS)
async def list_pipeline_jobs(
    request: Request, session: DbSession, identity: Reader, pipeline_id: str
) -> Response:
    """The jobs of a pipeline, with the job list's parameters."""
    query, embeds = _job_list_query(request)
    page = await pipeline_service.list_jobs(session, identity, pipeline_id, query, embeds)
    return list_response("jobs", page.rows, page.count)


register_crud(
    router,
    pipeline_service,
    create_schema=schemas.PipelineCreate,
    update_schema=schemas.PipelineUpdate,
)
register_crud(
    router,
    jobdefinition_service,
    create_schema=schemas.JobDefinitionCreate,
    update_schema=schemas.JobDefinitionUpdate,
)
