"""Native routes of runs and queues: `/api/v1/runs` and `/api/v1/queues`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter
from sqlalchemy.ext.asyncio import AsyncSession

from aerodrome.api import API_PREFIX
from aerodrome.api.crud import register_crud
from aerodrome.api.routing import Route
from aerodrome.crud import ResourceService
from aerodrome.db.resources import Resource
from aerodrome.identity import access
from aerodrome.identity.principal import Identity
from aerodrome.work import run_schemas, runs
from aerodrome.work.models import Run
from aerodrome.work.queues import queue_service

# Runs without a team are public (paddles runs); a team's runs are its members' only.
RUN_RESOURCE = Resource(
    "run",
    "runs",
    Run.__table__,
    team_key="team_id",
    public_without_team=True,
    alternate_keys=("name",),
)


class RunService(ResourceService):
    """Signed-in callers create team-less runs; a team's runs are written by its members.
    The counters and status are never written here: job writes keep them."""

    async def prepare_create(
        self, session: AsyncSession, identity: Identity, values: dict[str, Any]
    ) -> dict[str, Any]:
        return {**runs.parse_run_name(values["name"]), **values}

    async def check_write(
        self, session: AsyncSession, identity: Identity, row: Mapping[str, Any]
    ) -> None:
        access.require_authenticated(identity)
        runs.check_run_write(identity, row.get("team_id"))


run_service = RunService(RUN_RESOURCE)
router = APIRouter(prefix=API_PREFIX, tags=["runs"], route_class=Route)
register_crud(
    router, run_service, create_schema=run_schemas.RunCreate, update_schema=run_schemas.RunUpdate
)
register_crud(
    router,
    queue_service,
    create_schema=run_schemas.QueueCreate,
    update_schema=run_schemas.QueueUpdate,
)
