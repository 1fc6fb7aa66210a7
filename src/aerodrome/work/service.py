"""The work domain as the API exposes it: job definitions, jobs, job states, runs and queues.

Every job write goes through `insert_jobs` or `change_status`, which keep the run roll-ups
(`aerodrome.work.rollup`) and the `jobs_events` feed in the same transaction.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import ColumnElement, Select, bindparam, delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from aerodrome.api.query import QueryError
from aerodrome.api.search import Related, SearchFields, compile_search
from aerodrome.catalog import service as catalog_service
from aerodrome.catalog.service import COMPONENTS, PRODUCTS, TOPICS
from aerodrome.crud import ResourceService
from aerodrome.db import resources as rows
from aerodrome.db.base import new_etag
from aerodrome.db.membership import MemberOf
from aerodrome.db.remembered import RememberedReads
from aerodrome.db.resources import ListQuery, Page, Relation, RememberedStatements, Resource, Row
from aerodrome.db.types import utcnow
from aerodrome.errors import Forbidden, InvalidInput, NotFound
from aerodrome.events import service as events_service
from aerodrome.identity import access
from aerodrome.identity import service as identity_service
from aerodrome.identity.principal import Identity
from aerodrome.work.models import (
    Job,
    JobComponent,
    JobDefinition,
    JobKeyValue,
    Jobstate,
    Queue,
    Run,
)
from aerodrome.work.rollup import count_job_moves, count_job_status

QUEUES = Resource("queue", "queues", Queue.__table__, alternate_keys=("name",))
RUNS = Resource(
    "run",
    "runs",
    Run.__table__,
    team_key="team_id",
    alternate_keys=("name",),
    relations={"team": Relation("team", "team_id", identity_service.TEAMS)},
)
# DCI's name for a run.
PIPELINES = dataclasses.replace(RUNS, singular="pipeline", plural="pipelines")
JOBDEFINITIONS = Resource(
    "jobdefinition",
    "jobdefinitions",
    JobDefinition.__table__,
    relations={"topic": Relation("topic", "topic_id", TOPICS)},
)
JOBSTATES = Resource(
    "jobstate", "jobstates", Jobstate.__table__, team_key="team_id", default_sort=("created_at",)
)
JOBS = Resource(
    "job",
    "jobs",
    Job.__table__,
    team_key="team_id",
    counted=True,
    relations={
        "team": Relation("team", "team_id", identity_service.TEAMS),
        "remoteci": Relation("remoteci", "remoteci_id", identity_service.REMOTECIS),
        "topic": Relation("topic", "topic_id", TOPICS),
        "product": Relation("product", "product_id", PRODUCTS),
        "jobdefinition": Relation("jobdefinition", "jobdefinition_id", JOBDEFINITIONS),
        "pipeline": Relation("pipeline", "run_id", RUNS),
        "jobstates": Relation("jobstates", "id", JOBSTATES, remote_key="job_id", many=True),
    },
)
__all__ = ["COMPONENTS", "JOBDEFINITIONS", "JOBS", "JOBSTATES", "PIPELINES", "QUEUES", "RUNS"]

jobs = Job.__table__
job_components = JobComponent.__table__
jobstates = Jobstate.__table__
keyvalues = JobKeyValue.__table__

# Embeds of a job that are not plain relations: name → async (session, identity, rows) that
# attaches `row[name]` to every row with one query. Other domains register theirs (files,
# results) with `register_job_embed`.
JobEmbed = Callable[[AsyncSession, Identity, list[Row]], Awaitable[None]]
JOB_EMBEDS: dict[str, JobEmbed] = {}


def register_job_embed(name: str, embed: JobEmbed) -> None:
    JOB_EMBEDS[name] = embed


# What other domains do, in the purge's transaction, with their rows that refer to the jobs
# about to be removed (given as a SELECT of their ids): files are archived and detached, for
# `/files/purge` to remove their content.
JobPurgeHook = Callable[[AsyncSession, Select[Any]], Awaitable[None]]
JOB_PURGE_HOOKS: list[JobPurgeHook] = []


def register_job_purge_hook(hook: JobPurgeHook) -> None:
    JOB_PURGE_HOOKS.append(hook)


def job_embed_names() -> list[str]:
    return sorted({*JOBS.relations, *JOB_EMBEDS})


def parse_job_embeds(text: str) -> tuple[str, ...]:
    names = tuple(dict.fromkeys(filter(None, (n.strip() for n in text.split(",")))))
    unknown = [n for n in names if n not in JOBS.relations and n not in JOB_EMBEDS]
    if unknown:
        valid = job_embed_names()
        raise InvalidInput(
            f"unknown embed {', '.join(unknown)}; valid embeds: {', '.join(valid)}",
            payload={"valid": valid},
        )
    return names


async def _embed_components(session: AsyncSession, identity: Identity, found: list[Row]) -> None:
    """The components of each job, in the order of its topic's component types."""
    ids = [row["id"] for row in found]
    by_job: dict[Any, list[Row]] = {job_id: [] for job_id in ids}

    def build() -> Select[Any]:
        return (
            select(COMPONENTS.table, job_components.c.job_id.label("_job_id"))
            .join(job_components, job_components.c.component_id == COMPONENTS.column("id"))
            .where(
                MemberOf(job_components.c.job_id, "keys"),
                access.scope_for(identity)(COMPONENTS),
            )
            .order_by(job_components.c.job_id, job_components.c.position)
        )

    if ids:
        stmt = rows.embed_statement((_embed_components, identity), build)
        for component in COMPONENTS.public_rows(await session.execute(stmt, {"keys": ids})):
            by_job[component.pop("_job_id")].append(component)
    for row in found:
        row["components"] = by_job[row["id"]]


async def _embed_jobstates(session: AsyncSession, identity: Identity, found: list[Row]) -> None:
    """Each job's status history, oldest first (job states have no soft-delete state)."""
    by_job: dict[Any, list[Row]] = {row["id"]: [] for row in found}
    if by_job:
        stmt = (
            select(jobstates)
            .where(jobstates.c.job_id.in_(list(by_job)), access.scope_for(identity)(JOBSTATES))
            .order_by(jobstates.c.job_id, jobstates.c.created_at)
        )
        for item in (await session.execute(stmt)).mappings():
            by_job[item["job_id"]].append(dict(item))
    for row in found:
        row["jobstates"] = by_job[row["id"]]


register_job_embed("components", _embed_components)
register_job_embed("jobstates", _embed_jobstates)


async def embed_jobs(
    session: AsyncSession, identity: Identity, found: list[Row], names: Sequence[str]
) -> None:
    plain = [n for n in names if n not in JOB_EMBEDS]
    scope = access.scope_for(identity)
    await rows.embed_relations(
        session, JOBS, found, plain, scope, scope_key=(access.scope_for, identity)
    )
    for name in names:
        if name in JOB_EMBEDS:
            await JOB_EMBEDS[name](session, identity, found)


def to_wire(job: Row) -> Row:
    """A job as DCI clients know it: `pipeline_id` is the run it belongs to."""
    job["pipeline_id"] = job.get("run_id")
    return job


# --- job writes -------------------------------------------------------------------------------


async def insert_job(
    session: AsyncSession, values: Mapping[str, Any], component_ids: Sequence[uuid.UUID]
) -> Row:
    """A new job with its components, counted in its run and announced in the feed."""
    values = {"status": "new", **values}
    job = await rows.insert_row(session, JOBS, values)
    if component_ids:
        await session.execute(
            insert(job_components),
            [
                {"job_id": job["id"], "component_id": cid, "position": i}
                for i, cid in enumerate(component_ids)
            ],
        )
    await count_job_status(session, job["run_id"], None, job["status"])
    await events_service.record_job_events(session, [job], "create")
    return job


async def change_status(
    session: AsyncSession, job_id: uuid.UUID, status: str, comment: str | None
) -> tuple[Row, Row]:
    """Append a job state and move the job to it: status, duration, etag, roll-up, event.

    The job row is locked first (FOR UPDATE on PostgreSQL; SQLite writers are serialised), so
    that the old status counted out of the run is the one this change replaces.
    """
    locked = select(jobs.c.status, jobs.c.run_id, jobs.c.created_at, jobs.c.started, jobs.c.team_id)
    current = (
        (await session.execute(locked.where(jobs.c.id == job_id).with_for_update()))
        .mappings()
        .one()
    )
    now = utcnow()
    jobstate = {
        "id": uuid.uuid4(),
        "created_at": now,
        "job_id": job_id,
        "team_id": current["team_id"],
        "status": status,
        "comment": comment,
    }
    await session.execute(insert(jobstates).values(jobstate))
    changes: dict[str, Any] = {
        "status": status,
        "etag": new_etag(),
        "updated_at": now,
        "duration": (now - current["created_at"]).total_seconds(),
    }
    if current["started"] is None and status != "new":
        changes["started"] = now
    stmt = update(jobs).where(jobs.c.id == job_id).values(changes).returning(*jobs.c)
    job = JOBS.public_row((await session.execute(stmt)).mappings().one())
    await count_job_status(session, current["run_id"], current["status"], status)
    await events_service.record_job_events(session, [job], "update")
    return jobstate, job


def require_job_writer(identity: Identity, job: Mapping[str, Any]) -> None:
    """Jobs are changed by their team (its users and remotecis) and super admins."""
    access.require_authenticated(identity)
    if identity.is_super_admin:
        return
    if job.get("team_id") not in identity.team_ids:
        raise Forbidden("you may only change jobs of your own teams")


async def visible_components(
    session: AsyncSession, team_id: uuid.UUID | None, ids: Sequence[uuid.UUID]
) -> list[Row]:
    """The active components `ids` that a job of `team_id` may use, in the order given."""
    if not ids:
        return []
    table = COMPONENTS.table
    stmt = select(table).where(
        table.c.id.in_(ids),
        table.c.state == "active",
        (table.c.team_id.is_(None)) | (table.c.team_id == team_id),
    )
    found = {r["id"]: dict(r) for r in (await session.execute(stmt)).mappings()}
    missing = [str(i) for i in ids if i not in found]
    if missing:
        raise InvalidInput(
            f"unknown or unusable components: {', '.join(missing)}", payload={"missing": missing}
        )
    return [found[i] for i in dict.fromkeys(ids)]


# By the caller's teams (None: a super admin's): agents schedule against the same topics.
_USABLE_TOPICS = RememberedStatements()
_USABLE_TOPIC_ROWS: RememberedReads[tuple[frozenset[uuid.UUID] | None, uuid.UUID], Row | None] = (
    RememberedReads({"topics", "product_teams"}, max_entries=1_000)
)


def _usable_topic(team_ids: frozenset[uuid.UUID] | None) -> Select[Any]:
    topics = TOPICS.table
    stmt = select(topics).where(topics.c.id == bindparam("topic_id"), topics.c.state == "active")
    if team_ids is not None:
        stmt = stmt.where(catalog_service.usable_topics(team_ids))
    return stmt


async def usable_topic(session: AsyncSession, identity: Identity, topic_id: uuid.UUID) -> Row:
    """An active topic that the caller's team may run jobs on (404 if not); remembered until
    a topic or a product grant changes (agents ask on every schedule)."""
    teams = None if identity.is_super_admin else identity.team_ids

    async def query() -> Row | None:
        # Keyed as a tuple: a key of None would mean "build it every time".
        stmt = _USABLE_TOPICS.get((teams,), lambda: _usable_topic(teams))
        found = (await session.execute(stmt, {"topic_id": topic_id})).mappings().first()
        return None if found is None else dict(found)

    topic = await _USABLE_TOPIC_ROWS.read(session, (teams, topic_id), query)
    if topic is None:
        raise NotFound(f"topic {topic_id} not found or not available to your team")
    return dict(topic)


async def run_for_team(
    session: AsyncSession, pipeline_id: uuid.UUID | None, team_id: uuid.UUID
) -> uuid.UUID | None:
    if pipeline_id is None:
        return None
    runs = RUNS.table
    stmt = select(runs.c.id).where(
        runs.c.id == pipeline_id, runs.c.state == "active", runs.c.team_id == team_id
    )
    if (await session.execute(stmt)).first() is None:
        raise InvalidInput(f"unknown pipeline {pipeline_id} for this team")
    return pipeline_id


def check_team(claimed: uuid.UUID | None, team_id: uuid.UUID) -> None:
    """A job's team is its remoteci's; a client may name it, but not another one."""
    if claimed is not None and claimed != team_id:
        raise InvalidInput(f"team_id {claimed} is not the remoteci's team {team_id}")


def job_values(fields: Mapping[str, Any]) -> dict[str, Any]:
    """The columns a client's job fields set (pipeline_id is the run)."""
    values = {k: v for k, v in fields.items() if v is not None}
    if "pipeline_id" in values:
        values["run_id"] = values.pop("pipeline_id")
    return values


# --- services ---------------------------------------------------------------------------------


class JobService(ResourceService):
    """Jobs belong to the team of the remoteci that runs them."""

    async def list_jobs(
        self, session: AsyncSession, identity: Identity, query: ListQuery, embeds: Sequence[str]
    ) -> Page:
        page = await self.list(session, identity, query)
        await embed_jobs(session, identity, page.rows, embeds)
        return Page(rows=[to_wire(r) for r in page.rows], count=page.count)

    async def show_job(
        self, session: AsyncSession, identity: Identity, key: str, embeds: Sequence[str]
    ) -> Row:
        job = await self.get(session, identity, key)
        await embed_jobs(session, identity, [job], list(dict.fromkeys(["components", *embeds])))
        job["keys_values"] = await list_keyvalues(session, job["id"])
        return to_wire(job)

    async def create(self, session: AsyncSession, identity: Identity, data: Any) -> Row:
        fields = data.model_dump(exclude_unset=True)
        remoteci = await self._runner(session, identity, fields.pop("remoteci_id", None))
        topic = await usable_topic(session, identity, fields.pop("topic_id"))
        team_id = remoteci["team_id"]
        component_ids = fields.pop("components", [])
        check_team(fields.pop("team_id", None), team_id)
        components = await visible_components(session, team_id, component_ids)
        values = job_values(fields)
        values["run_id"] = await run_for_team(session, values.get("run_id"), team_id)
        values |= {
            "remoteci_id": remoteci["id"],
            "team_id": team_id,
            "topic_id": topic["id"],
            "product_id": topic["product_id"],
        }
        job = await insert_job(session, values, [c["id"] for c in components])
        job["components"] = components
        return to_wire(job)

    async def _runner(
        self, session: AsyncSession, identity: Identity, remoteci_id: uuid.UUID | None
    ) -> Row:
        """The remoteci a new job runs on: the caller itself, or one of the caller's teams'."""
        if identity.kind == "remoteci":
            remoteci_id = identity.id
        if remoteci_id is None:
            raise InvalidInput("remoteci_id is required")
        remotecis = identity_service.REMOTECIS
        try:
            found = await rows.get_row(session, remotecis, remoteci_id, access.scope_for(identity))
        except NotFound:
            raise InvalidInput(f"unknown remoteci {remoteci_id}") from None
        require_job_writer(identity, found)
        return found

    async def update(
        self,
        session: AsyncSession,
        identity: Identity,
        key: str,
        *,
        if_match: str,
        data: Any,
    ) -> Row:
        """Change the job's fields; a `status` is recorded as a job state."""
        current = await self.get(session, identity, key)
        require_job_writer(identity, current)
        values = data.model_dump(exclude_unset=True)
        status, reason = values.pop("status", None), values.pop("status_reason", None)
        job = await rows.update_row(session, JOBS, current["id"], if_match=if_match, values=values)
        if status is not None:
            _, job = await change_status(session, current["id"], status, reason)
        return to_wire(job)

    async def delete(
        self, session: AsyncSession, identity: Identity, key: str, *, if_match: str
    ) -> None:
        current = await self.get(session, identity, key)
        require_job_writer(identity, current)
        await rows.archive_row(session, JOBS, current["id"], if_match=if_match)

    async def purge(self, session: AsyncSession, identity: Identity) -> int:
        """Remove archived jobs for good, and take them out of their runs' counts."""
        access.require_super_admin(identity)
        for hook in JOB_PURGE_HOOKS:
            await hook(session, select(jobs.c.id).where(jobs.c.state == rows.ARCHIVED))
        stmt = (
            delete(jobs)
            .where(jobs.c.state == rows.ARCHIVED)
            .returning(jobs.c.id, jobs.c.run_id, jobs.c.status, jobs.c.team_id, jobs.c.topic_id)
        )
        removed = [dict(r) for r in (await session.execute(stmt)).mappings()]
        moves: dict[Any, Counter[tuple[str | None, str | None]]] = defaultdict(Counter)
        for job in removed:
            moves[job["run_id"]][(job["status"], None)] += 1
        for run_id, run_moves in moves.items():  # one UPDATE per run
            await count_job_moves(session, run_id, run_moves)
        await events_service.record_job_events(
            session, [{**j, "status": None} for j in removed], "delete"
        )
        return len(removed)


class JobstateService(ResourceService):
    """Job states are an append-only history: no etag, no soft delete."""

    async def list(self, session: AsyncSession, identity: Identity, query: ListQuery) -> Page:
        where = (access.scope_for(identity)(JOBSTATES), *query.filters)
        order = query.order_by or (jobstates.c.created_at.asc(),)
        stmt = (
            select(jobstates)
            .where(*where)
            .order_by(*order, jobstates.c.id)
            .limit(query.limit)
            .offset(query.offset)
        )
        found = [dict(r) for r in (await session.execute(stmt)).mappings()]
        total = select(func.count()).select_from(jobstates).where(*where)
        return Page(rows=found, count=int((await session.execute(total)).scalar_one()))

    async def get(
        self,
        session: AsyncSession,
        identity: Identity,
        key: str | uuid.UUID,
        *,
        embeds: Sequence[str] = (),
    ) -> Row:
        stmt = select(jobstates).where(jobstates.c.id == key, access.scope_for(identity)(JOBSTATES))
        found = (await session.execute(stmt)).mappings().first()
        if found is None:
            raise NotFound(f"jobstate {key} not found")
        return dict(found)

    async def create(self, session: AsyncSession, identity: Identity, data: Any) -> Row:
        """Append to a job's history and move the job to the new status."""
        job = await job_service.get(session, identity, str(data.job_id))
        require_job_writer(identity, job)
        jobstate, _ = await change_status(session, job["id"], data.status, data.comment)
        return jobstate

    async def list_for_job(
        self, session: AsyncSession, identity: Identity, key: str, query: ListQuery
    ) -> Page:
        job = await job_service.get(session, identity, key)
        of_job = JOBSTATES.column("job_id") == job["id"]
        scoped = dataclasses.replace(query, filters=(*query.filters, of_job))
        return await self.list(session, identity, scoped)


class PipelineService(ResourceService):
    """Pipelines (runs) belong to a team; its members and remotecis create and change them."""

    async def check_write(
        self, session: AsyncSession, identity: Identity, row: Mapping[str, Any]
    ) -> None:
        access.require_team_member(identity, row.get("team_id"))

    async def list_jobs(
        self,
        session: AsyncSession,
        identity: Identity,
        key: str,
        query: ListQuery,
        embeds: Sequence[str],
    ) -> Page:
        pipeline = await self.get(session, identity, key)
        of_run = JOBS.column("run_id") == pipeline["id"]
        scoped = dataclasses.replace(query, filters=(*query.filters, of_run))
        return await job_service.list_jobs(session, identity, scoped, embeds)


class JobDefinitionService(ResourceService):
    """Job definitions are published like the topics they name."""

    async def check_write(
        self, session: AsyncSession, identity: Identity, row: Mapping[str, Any]
    ) -> None:
        topics = TOPICS.table
        stmt = select(topics.c.product_id).where(topics.c.id == row.get("topic_id"))
        product_id = (await session.execute(stmt)).scalar_one_or_none()
        await topic_service.check_write(session, identity, {"product_id": product_id})

    async def prepare_create(
        self, session: AsyncSession, identity: Identity, values: dict[str, Any]
    ) -> dict[str, Any]:
        try:
            await topic_service.get(session, identity, str(values["topic_id"]))
        except NotFound:
            raise InvalidInput(f"unknown topic_id {values['topic_id']}") from None
        return values


# --- search ----------------------------------------------------------------------------------


def _one_related(resource: Resource, local_key: str) -> Related:
    table = resource.table

    def wrap(condition: ColumnElement[bool]) -> ColumnElement[bool]:
        return select(table.c.id).where(table.c.id == jobs.c[local_key], condition).exists()

    return Related(resource.fields, wrap)


def _components_related() -> Related:
    table = COMPONENTS.table

    def wrap(condition: ColumnElement[bool]) -> ColumnElement[bool]:
        return (
            select(job_components.c.job_id)
            .join(table, table.c.id == job_components.c.component_id)
            .where(job_components.c.job_id == jobs.c.id, condition)
            .exists()
        )

    return Related(COMPONENTS.fields, wrap)


def _keyvalues_related() -> Related:
    def wrap(condition: ColumnElement[bool]) -> ColumnElement[bool]:
        return select(keyvalues.c.job_id).where(keyvalues.c.job_id == jobs.c.id, condition).exists()

    return Related({"key": keyvalues.c.key, "value": keyvalues.c.value}, wrap)


# What `job-search` queries may name: a job's columns and those of what it refers to. A
# condition on a related row is an EXISTS; the job list's team scope still applies on top.
JOB_SEARCH_FIELDS = SearchFields(
    fields={**JOBS.fields, "pipeline_id": jobs.c.run_id},
    related={
        "topic": _one_related(TOPICS, "topic_id"),
        "product": _one_related(PRODUCTS, "product_id"),
        "team": _one_related(identity_service.TEAMS, "team_id"),
        "remoteci": _one_related(identity_service.REMOTECIS, "remoteci_id"),
        "pipeline": _one_related(RUNS, "run_id"),
        "jobdefinition": _one_related(JOBDEFINITIONS, "jobdefinition_id"),
        "components": _components_related(),
        "keys_values": _keyvalues_related(),
    },
)
SEARCH_EMBEDS = ("topic", "remoteci", "team", "pipeline", "components")


async def search_jobs(
    session: AsyncSession, identity: Identity, text: str, query: ListQuery
) -> Page:
    """The jobs, among those `identity` may see, that match a `job-search` query."""
    try:
        condition = compile_search(text, JOB_SEARCH_FIELDS)
    except QueryError as exc:
        raise InvalidInput(str(exc)) from exc
    scoped = dataclasses.replace(query, filters=(*query.filters, condition))
    return await job_service.list_jobs(session, identity, scoped, SEARCH_EMBEDS)


# --- key/values -------------------------------------------------------------------------------


async def list_keyvalues(session: AsyncSession, job_id: uuid.UUID) -> list[Row]:
    stmt = select(keyvalues).where(keyvalues.c.job_id == job_id).order_by(keyvalues.c.key)
    return [dict(r) for r in (await session.execute(stmt)).mappings()]


async def set_keyvalue(
    session: AsyncSession, identity: Identity, key: str, *, name: str, value: float
) -> Row:
    """Record (or replace) a named figure of a job."""
    job = await job_service.get(session, identity, key)
    require_job_writer(identity, job)
    await session.execute(
        delete(keyvalues).where(keyvalues.c.job_id == job["id"], keyvalues.c.key == name)
    )
    row = {"job_id": job["id"], "key": name, "value": value, "created_at": utcnow()}
    await session.execute(insert(keyvalues).values(row))
    return row


async def delete_keyvalue(
    session: AsyncSession, identity: Identity, key: str, *, name: str
) -> None:
    job = await job_service.get(session, identity, key)
    require_job_writer(identity, job)
    stmt = delete(keyvalues).where(keyvalues.c.job_id == job["id"], keyvalues.c.key == name)
    if not (await session.execute(stmt)).rowcount:  # type: ignore[attr-defined]
        raise NotFound(f"job {job['id']} has no key {name!r}")


topic_service = catalog_service.topic_service
job_service = JobService(JOBS)
jobstate_service = JobstateService(JOBSTATES)
pipeline_service = PipelineService(PIPELINES)
jobdefinition_service = JobDefinitionService(JOBDEFINITIONS)
