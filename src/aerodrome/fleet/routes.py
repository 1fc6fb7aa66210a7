"""Native fleet routes: `/api/v1/clusters` (the same data as the Deis façade, house style)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from pydantic import Field

from aerodrome.api import API_PREFIX
from aerodrome.api.crud import ERRORS
from aerodrome.api.deps import Caller, DbSession, Reader
from aerodrome.api.listing import check_parameters
from aerodrome.api.responses import JSONResponse, list_response
from aerodrome.api.routing import Route
from aerodrome.compat.deis.schemas import ComponentVersion
from aerodrome.fleet import service
from aerodrome.schemas import Strict
from aerodrome.times import UtcTime

router = APIRouter(prefix=API_PREFIX, tags=["fleet"], responses=ERRORS, route_class=Route)

ClusterId = Annotated[str, Path(max_length=64, pattern=r"^[A-Za-z0-9][\w.\-]*$")]
Time = Annotated[UtcTime | None, Query()]
Limit = Annotated[int, Query(ge=1, le=200)]
Offset = Annotated[int, Query(ge=0, le=1_000_000_000)]


class CheckinCreate(Strict):
    id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][\w.\-]*$")
    components: list[ComponentVersion] = Field(default_factory=list, max_length=200)


def _shown(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "first_seen": row["first_seen"],
        "last_seen": row["last_seen"],
        "checkins_count": row["checkins"],
        "components": row["components"],
        "updates_available": row["updates_available"],
    }


AGE_PARAMETERS = ("created_before", "created_after", "checked_in_before", "checked_in_after")


@router.get("/clusters", name="list_clusters")
async def list_clusters(
    request: Request,
    session: DbSession,
    _reader: Reader,
    created_before: Time = None,
    created_after: Time = None,
    checked_in_before: Time = None,
    checked_in_after: Time = None,
    limit: Limit = 20,
    offset: Offset = 0,
) -> JSONResponse:
    """Clusters, most recently seen first, by first (`created_*`) and last (`checked_in_*`)
    check-in; an impossible combination of bounds is a 400 that says why."""
    check_parameters(request.query_params, {*AGE_PARAMETERS, "limit", "offset"})
    age = service.AgeFilter(
        created_before=created_before,
        created_after=created_after,
        checked_in_before=checked_in_before,
        checked_in_after=checked_in_after,
    )
    rows, count = await service.list_clusters(session, age, limit=limit, offset=offset)
    return list_response("clusters", [_shown(r) for r in rows], count)


@router.post("/clusters", name="create_checkin", status_code=201)
async def create_checkin(
    request: Request, session: DbSession, _caller: Caller, body: CheckinCreate
) -> JSONResponse:
    """Record a check-in of a cluster (registering it on its first); answers the cluster."""
    row = await service.record_checkin(
        session,
        cluster_id=body.id,
        components=[c.model_dump(mode="json", exclude_none=True) for c in body.components],
        source_address=request.client.host if request.client else "unknown",
        per_minute=0,  # the per-address limit is for anonymous (Deis) check-ins only
    )
    return JSONResponse({"cluster": _shown(row)}, status_code=201)


@router.get("/clusters/{cluster_id}", name="get_cluster")
async def get_cluster(session: DbSession, _reader: Reader, cluster_id: ClusterId) -> JSONResponse:
    """A cluster: first and last seen, number of check-ins, components, updates available."""
    row = await service.get_cluster(session, cluster_id)
    return JSONResponse({"cluster": _shown(row)})


@router.get("/clusters/{cluster_id}/checkins", name="list_cluster_checkins")
async def list_cluster_checkins(
    session: DbSession,
    _reader: Reader,
    cluster_id: ClusterId,
    limit: Limit = 20,
    offset: Offset = 0,
) -> JSONResponse:
    """A cluster's check-ins, newest first."""
    rows, count = await service.list_checkins(session, cluster_id, limit=limit, offset=offset)
    return list_response("checkins", rows, count)
