"""Which work a remoteci gets next, and the jobs derived from other jobs (update, upgrade,
recheck).

Without a topic, a remoteci gets the most urgent job definition (highest priority, then
oldest) of the topics its team may use that it has not yet run against the newest active public
components of the definition's types. Handing out that work is a claim: a row of
`job_claims` keyed by (remoteci, definition, components) inserted with ON CONFLICT DO NOTHING,
so that of two concurrent schedulers picking the same work one wins and the other moves on to
the next candidate (PostgreSQL makes the loser wait for the winner's commit; SQLite serialises
writers). Each request costs a handful of set-based statements whatever the number of
definitions, components or past jobs.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import CompoundSelect, Insert, Select, bindparam, select, union_all
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from aerodrome.catalog import service as catalog_service
from aerodrome.catalog.service import COMPONENTS, TOPICS
from aerodrome.db.membership import MemberOf
from aerodrome.db.remembered import RememberedReads
from aerodrome.db.resources import RememberedStatements, Row, get_row
from aerodrome.errors import Forbidden, InvalidInput, PreconditionFailed
from aerodrome.identity import access
from aerodrome.identity.principal import Identity
from aerodrome.work import service as work_service
from aerodrome.work.models import JobClaim
from aerodrome.work.schemas import JobSchedule

NOTHING_TO_DO = "No jobs available for run."
# Definitions examined per round; a remoteci that has run the most urgent ones already makes
# the scheduler look further, one batch (and the same few statements) at a time.
BATCH = 50

TopicType = tuple[uuid.UUID, str]
claims = JobClaim.__table__
components = COMPONENTS.table
topics = TOPICS.table
definitions = work_service.JOBDEFINITIONS.table
# The definitions a team's remotecis may run, by (teams, offset): built once per key, and
# their rows remembered until a definition, topic or product grant changes.
_CANDIDATES = RememberedStatements()
_CANDIDATE_ROWS: RememberedReads[tuple[frozenset[uuid.UUID], int], list[Row]] = RememberedReads(
    {"jobdefinitions", "topics", "product_teams"}, max_entries=1_000
)
# The newest public components of (topic, type) pairs, by the pairs asked for.
_LATEST: RememberedReads[tuple[TopicType, ...], dict[TopicType, Row]] = RememberedReads(
    {"components"}, max_entries=1_000
)


@dataclass(frozen=True)
class Work:
    """A job definition together with the components it would run against."""

    definition: Row
    components: tuple[Row, ...]
    key: str


def components_key(ids: Iterable[uuid.UUID]) -> str:
    """The identity of a set of components: order-free, fixed length."""
    return hashlib.sha256(",".join(sorted(str(i) for i in ids)).encode()).hexdigest()


def definition_types(definition: Mapping[str, Any]) -> list[str]:
    """The component types a definition needs: its own list, else all of its topic's."""
    return list(definition["component_types"] or definition["topic_component_types"] or [])


def plan_work(
    candidates: Iterable[Row],
    latest: Mapping[TopicType, Row],
    claimed: set[tuple[uuid.UUID, str]],
) -> list[Work]:
    """The work still to do, most urgent first (priority, then age): the candidates whose
    types all have a component, minus what this remoteci has already claimed."""
    ordered = sorted(candidates, key=lambda d: (-d["priority"], d["created_at"], str(d["id"])))
    planned = []
    for definition in ordered:
        chosen = [latest.get((definition["topic_id"], t)) for t in definition_types(definition)]
        if any(c is None for c in chosen):
            continue
        found = tuple(c for c in chosen if c is not None)
        key = components_key(c["id"] for c in found)
        if (definition["id"], key) not in claimed:
            planned.append(Work(definition, found, key))
    return planned


def _newest_of(branch: int) -> Select[Any]:
    # Each branch is one descent of the (topic_id, type, created_at) index.
    newest = (
        select(components)
        .where(
            components.c.topic_id == bindparam(f"topic_{branch}"),
            components.c.type == bindparam(f"type_{branch}"),
            components.c.state == "active",
            components.c.team_id.is_(None),
        )
        .order_by(components.c.created_at.desc(), components.c.id.desc())
        .limit(1)
        .subquery()
    )
    return select(newest)


async def latest_components(
    session: AsyncSession, pairs: Iterable[TopicType]
) -> dict[TopicType, Row]:
    """The newest active public component of each (topic, type), in one statement; remembered
    until a component changes (every scheduler call asks, a new component is rare)."""
    wanted = tuple(dict.fromkeys(pairs))
    if not wanted:
        return {}
    found = await _LATEST.read(session, wanted, lambda: _read_latest(session, wanted))
    return {pair: dict(row) for pair, row in found.items()}


async def _read_latest(session: AsyncSession, wanted: Sequence[TopicType]) -> dict[TopicType, Row]:
    params: dict[str, Any] = {}
    for branch, (topic_id, ctype) in enumerate(wanted):
        params |= {f"topic_{branch}": topic_id, f"type_{branch}": ctype}
    found = COMPONENTS.public_rows(await session.execute(_latest_of(len(wanted)), params))
    return {(r["topic_id"], r["type"]): r for r in found}


@lru_cache(maxsize=256)
def _latest_of(count: int) -> Select[Any] | CompoundSelect[Any]:
    """The statement of `latest_components` for `count` pairs, built once per count: building
    a union of subqueries cost more than running it."""
    branches = [_newest_of(branch) for branch in range(count)]
    return branches[0] if count == 1 else union_all(*branches)


async def _topic_components(
    session: AsyncSession, topic: Mapping[str, Any], pinned: Sequence[Row] = ()
) -> list[Row]:
    """For each of the topic's types in order, the pinned component or the newest one."""
    by_type = {c["type"]: c for c in pinned}
    types = list(topic["component_types"] or [])
    latest = await latest_components(session, [(topic["id"], t) for t in types if t not in by_type])
    chosen = []
    for ctype in types:
        component = by_type.get(ctype) or latest.get((topic["id"], ctype))
        if component is None:
            raise PreconditionFailed(
                f"No active component of type {ctype!r} in topic {topic['name']!r}",
                payload={"type": ctype, "topic_id": str(topic["id"])},
            )
        chosen.append(component)
    return chosen


def _require_remoteci(identity: Identity) -> tuple[uuid.UUID, uuid.UUID]:
    access.require_authenticated(identity)
    if identity.kind != "remoteci" or identity.id is None or not identity.teams:
        raise Forbidden("only remotecis schedule jobs")
    return identity.id, identity.teams[0].id


async def schedule(session: AsyncSession, identity: Identity, request: JobSchedule) -> Row:
    """`POST /jobs/schedule`: a new job for the calling remoteci (412 when nothing fits)."""
    remoteci_id, team_id = _require_remoteci(identity)
    fields = request.model_dump(exclude_unset=True, exclude={"remoteci_id"})
    work_service.check_team(fields.pop("team_id", None), team_id)
    topic_id, pinned_ids = fields.pop("topic_id", None), fields.pop("components_ids", [])
    values = work_service.job_values(fields)
    values["run_id"] = await work_service.run_for_team(session, values.get("run_id"), team_id)
    values |= {"remoteci_id": remoteci_id, "team_id": team_id}
    if topic_id is not None:
        topic = await work_service.usable_topic(session, identity, topic_id)
        pinned = await work_service.visible_components(session, team_id, pinned_ids)
        chosen = await _topic_components(session, topic, pinned)
        return await _new_job(session, values, topic, chosen)
    return await _schedule_definition(session, identity, values)


async def _new_job(
    session: AsyncSession,
    values: Mapping[str, Any],
    topic: Mapping[str, Any],
    chosen: Sequence[Row],
) -> Row:
    values = {**values, "topic_id": topic["id"], "product_id": topic["product_id"]}
    job = await work_service.insert_job(session, values, [c["id"] for c in chosen])
    job["components"] = list(chosen)
    return work_service.to_wire(job)


async def _candidates(session: AsyncSession, identity: Identity, offset: int) -> list[Row]:
    teams = identity.team_ids

    async def query() -> list[Row]:
        stmt = _CANDIDATES.get((teams, offset), lambda: _candidates_of(teams, offset))
        return [dict(r) for r in (await session.execute(stmt)).mappings()]

    return await _CANDIDATE_ROWS.read(session, (teams, offset), query)


def _candidates_of(team_ids: frozenset[uuid.UUID], offset: int) -> Select[Any]:
    return (
        select(
            definitions,
            topics.c.component_types.label("topic_component_types"),
            topics.c.product_id.label("topic_product_id"),
            topics.c.name.label("topic_name"),
        )
        .join(topics, topics.c.id == definitions.c.topic_id)
        .where(
            definitions.c.state == "active",
            topics.c.state == "active",
            catalog_service.usable_topics(team_ids),
        )
        .order_by(definitions.c.priority.desc(), definitions.c.created_at.asc(), definitions.c.id)
        .limit(BATCH)
        .offset(offset)
    )


_CLAIMED = select(claims.c.jobdefinition_id, claims.c.components_key).where(
    claims.c.remoteci_id == bindparam("remoteci_id"),
    MemberOf(claims.c.jobdefinition_id, "definition_ids"),
)


async def _claimed(
    session: AsyncSession, remoteci_id: uuid.UUID, definition_ids: Sequence[uuid.UUID]
) -> set[tuple[uuid.UUID, str]]:
    parameters = {"remoteci_id": remoteci_id, "definition_ids": list(definition_ids)}
    return {(r[0], r[1]) for r in (await session.execute(_CLAIMED, parameters)).all()}


@lru_cache(maxsize=2)
def _claim_statement(dialect: str) -> Insert:
    dialect_insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return dialect_insert(claims).on_conflict_do_nothing().returning(claims.c.components_key)


async def _claim(
    session: AsyncSession, remoteci_id: uuid.UUID, work: Work, job_id: uuid.UUID
) -> bool:
    """Take `work` for `remoteci_id` as job `job_id` (inserted next: the claim's reference to
    it is checked at commit); False when a concurrent request took the work first."""
    claim = {
        "remoteci_id": remoteci_id,
        "jobdefinition_id": work.definition["id"],
        "components_key": work.key,
        "job_id": job_id,
    }
    statement = _claim_statement(session.get_bind().dialect.name)
    return (await session.execute(statement, claim)).first() is not None


async def _schedule_definition(
    session: AsyncSession, identity: Identity, values: dict[str, Any]
) -> Row:
    remoteci_id = values["remoteci_id"]
    offset = 0
    while candidates := await _candidates(session, identity, offset):
        pairs = [(d["topic_id"], t) for d in candidates for t in definition_types(d)]
        latest = await latest_components(session, pairs)
        claimed = await _claimed(session, remoteci_id, [d["id"] for d in candidates])
        for work in plan_work(candidates, latest, claimed):
            job_id = uuid.uuid4()
            if await _claim(session, remoteci_id, work, job_id):
                return await _claimed_job(session, {**values, "id": job_id}, work)
        offset += BATCH
    raise PreconditionFailed(NOTHING_TO_DO)


async def _claimed_job(session: AsyncSession, values: Mapping[str, Any], work: Work) -> Row:
    definition = work.definition
    topic = {
        "id": definition["topic_id"],
        "product_id": definition["topic_product_id"],
    }
    values = {"name": definition["name"], **values, "jobdefinition_id": definition["id"]}
    return await _new_job(session, values, topic, work.components)


# --- jobs derived from a job --------------------------------------------------------------------

_COPIED = ("name", "comment", "configuration", "url", "tags", "data", "run_id", "remoteci_id")


async def _source_job(session: AsyncSession, identity: Identity, key: str) -> Row:
    job = await work_service.job_service.get(session, identity, key)
    work_service.require_job_writer(identity, job)
    return job


def _copy(job: Mapping[str, Any]) -> dict[str, Any]:
    return {name: job[name] for name in _COPIED} | {"team_id": job["team_id"]}


async def update_job(session: AsyncSession, identity: Identity, key: str) -> Row:
    """`POST /jobs/<id>/update`: the same test on the same topic, with its newest components."""
    job = await _source_job(session, identity, key)
    topic = await work_service.usable_topic(session, identity, job["topic_id"])
    chosen = await _topic_components(session, topic)
    values = _copy(job) | {"update_previous_job_id": job["id"]}
    return await _new_job(session, values, topic, chosen)


async def upgrade_job(session: AsyncSession, identity: Identity, job_id: uuid.UUID) -> Row:
    """`POST /jobs/upgrade`: the same test on the topic that follows the job's topic."""
    job = await _source_job(session, identity, str(job_id))
    current = await get_row(session, TOPICS, job["topic_id"], access.scope_for(identity))
    if current["next_topic_id"] is None:
        raise InvalidInput(f"topic {current['name']!r} has no next topic to upgrade to")
    topic = await work_service.usable_topic(session, identity, current["next_topic_id"])
    chosen = await _topic_components(session, topic)
    values = _copy(job) | {"previous_job_id": job["id"]}
    return await _new_job(session, values, topic, chosen)


async def recheck_job(session: AsyncSession, identity: Identity, key: str) -> Row:
    """`POST /jobs/<id>/recheck`: run the job again, against the very same components."""
    job = await _source_job(session, identity, key)
    found: list[Row] = [dict(job)]
    await work_service.embed_jobs(session, identity, found, ["components"])
    topic = {"id": job["topic_id"], "product_id": job["product_id"]}
    values = _copy(job) | {
        "previous_job_id": job["id"],
        "jobdefinition_id": job["jobdefinition_id"],
    }
    return await _new_job(session, values, topic, found[0]["components"])
