"""File rules: where an upload belongs, who may add, see and remove files, and recording a
stored upload (with its parsed test results) in one transaction."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import Select, delete, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from aerodrome.catalog import service as catalog_service
from aerodrome.db import resources as rows
from aerodrome.db.base import new_etag
from aerodrome.db.resources import ListQuery, Page, Row
from aerodrome.db.types import utcnow
from aerodrome.errors import InvalidInput, NotFound
from aerodrome.files.models import PRIVATE, PUBLIC
from aerodrome.files.resource import FILES, file_scope
from aerodrome.files.upload import Received
from aerodrome.identity import access
from aerodrome.identity.principal import Identity
from aerodrome.results import service as results_service
from aerodrome.work import service as work_service

files_table = FILES.table


@dataclass(frozen=True)
class Owner:
    """What a new file is attached to, resolved (and allowed) before its body is read."""

    team_id: uuid.UUID | None
    job: Row | None = None
    jobstate_id: uuid.UUID | None = None
    component_id: uuid.UUID | None = None

    @property
    def visibility(self) -> str:
        # Only a public component's files are public; a job's are its team's.
        return PUBLIC if self.component_id is not None and self.team_id is None else PRIVATE


async def job_owner(
    session: AsyncSession,
    identity: Identity,
    *,
    job_id: str | None,
    jobstate_id: str | None,
) -> Owner:
    """The job (named directly, or by one of its job states) a caller uploads a file to."""
    if job_id is None and jobstate_id is None:
        raise InvalidInput("a DCI-JOB-ID or a DCI-JOBSTATE-ID header is required")
    scope = access.scope_for(identity)
    state = None
    if jobstate_id is not None:
        state = await _jobstate(session, jobstate_id, scope)
        if job_id is not None and str(state["job_id"]) != _uuid_text(job_id):
            raise InvalidInput("DCI-JOBSTATE-ID belongs to another job than DCI-JOB-ID")
        job_id = str(state["job_id"])
    assert job_id is not None
    job = await _get(session, work_service.JOBS, job_id, scope)
    access.require_team_member(identity, job["team_id"])
    return Owner(team_id=job["team_id"], job=job, jobstate_id=state["id"] if state else None)


async def _jobstate(session: AsyncSession, key: str, scope: rows.ScopeFor) -> Row:
    # Job states are an append-only history: no soft delete, so no `get_row`.
    states = work_service.JOBSTATES
    stmt = select(states.table).where(
        states.column("id") == uuid.UUID(_uuid_text(key)), scope(states)
    )
    found = (await session.execute(stmt)).mappings().first()
    if found is None:
        raise NotFound(f"jobstate {key} not found", payload={"id": key})
    return dict(found)


async def component_owner(session: AsyncSession, identity: Identity, component_id: str) -> Owner:
    """The component a caller adds a file to: its publishers may."""
    component = await _component(session, identity, component_id)
    await catalog_service.component_service.check_write(session, identity, component)
    return Owner(team_id=component["team_id"], component_id=component["id"])


async def _component(session: AsyncSession, identity: Identity, key: str) -> Row:
    return await _get(session, catalog_service.COMPONENTS, key, access.scope_for(identity))


async def _get(
    session: AsyncSession, resource: rows.Resource, key: str, scope: rows.ScopeFor
) -> Row:
    try:
        return await rows.get_row(session, resource, key, scope)
    except NotFound:
        raise NotFound(f"{resource.singular} {key} not found", payload={"id": key}) from None


def _uuid_text(text: str) -> str:
    try:
        return str(uuid.UUID(text))
    except ValueError:
        raise InvalidInput(f"{text!r} is not a UUID") from None


async def record(
    session: AsyncSession,
    owner: Owner,
    *,
    file_id: uuid.UUID,
    name: str,
    mime: str,
    received: Received,
) -> Row:
    """The file's row and, for a results file of a job, its results: one transaction."""
    now = utcnow()
    values = {
        "id": file_id,
        "created_at": now,
        "updated_at": now,
        "etag": new_etag(),
        "state": "active",
        "name": name,
        "mime": mime,
        "size": received.size,
        "sha256": received.sha256,
        "job_id": owner.job["id"] if owner.job else None,
        "jobstate_id": owner.jobstate_id,
        "component_id": owner.component_id,
        "team_id": owner.team_id,
        "visibility": owner.visibility,
        "storage_key": file_id.hex,
    }
    await session.execute(insert(files_table), [values])
    if received.results is not None and owner.job is not None:
        await results_service.ingest(session, file=values, job=owner.job, parsed=received.results)
    return FILES.public_row(values)


async def list_files(
    session: AsyncSession, identity: Identity, query: ListQuery, **owned_by: uuid.UUID
) -> Page:
    """A page of the files the caller may see, optionally of one job or component."""
    filters = tuple(FILES.column(column) == value for column, value in owned_by.items())
    scoped = replace(query, filters=(*query.filters, *filters))
    return await rows.list_rows(session, FILES, scoped, file_scope(identity))


async def list_job_files(
    session: AsyncSession, identity: Identity, job_key: str, query: ListQuery
) -> Page:
    job = await _get(session, work_service.JOBS, job_key, access.scope_for(identity))
    return await list_files(session, identity, query, job_id=job["id"])


async def list_component_files(
    session: AsyncSession, identity: Identity, component_key: str, query: ListQuery
) -> Page:
    component = await _component(session, identity, component_key)
    return await list_files(session, identity, query, component_id=component["id"])


async def get_file(
    session: AsyncSession,
    identity: Identity,
    key: str,
    *,
    component_key: str | None = None,
    embeds: tuple[str, ...] = (),
) -> Row:
    """A file the caller may see, with its storage key (for the content route only)."""
    scope = file_scope(identity)
    where = [rows.key_clause(FILES, key), scope(FILES), rows.not_archived(FILES)]
    if component_key is not None:
        component = await _component(session, identity, component_key)
        where.append(FILES.column("component_id") == component["id"])
    found = (await session.execute(select(files_table).where(*where))).mappings().first()
    if found is None:
        raise NotFound(f"file {key} not found", payload={"id": key})
    row = dict(found)
    await rows.embed_relations(session, FILES, [row], embeds, scope)
    return row


async def delete_file(
    session: AsyncSession,
    identity: Identity,
    key: str,
    *,
    if_match: str | None,
    component_key: str | None = None,
) -> None:
    """Soft delete: the file is archived, its content kept until purged. Without `if_match`
    the file is archived whatever its etag."""
    found = await get_file(session, identity, key, component_key=component_key)
    await check_write(session, identity, found)
    await rows.archive_row(session, FILES, found["id"], if_match=if_match or found["etag"])


async def check_write(session: AsyncSession, identity: Identity, file: Mapping[str, Any]) -> None:
    if file["team_id"] is not None:
        access.require_team_member(identity, file["team_id"])
    else:  # a public component's file: the component's publishers
        await catalog_service.component_service.check_write(session, identity, {"team_id": None})


async def list_archived(session: AsyncSession, identity: Identity) -> list[Row]:
    access.require_super_admin(identity)
    return await rows.list_archived(session, FILES, file_scope(identity))


async def purge(session: AsyncSession, identity: Identity) -> list[str]:
    """Remove archived files (and their results) for good; the storage keys whose content
    the caller deletes once this transaction has committed."""
    access.require_super_admin(identity)
    archived = files_table.c.state == rows.ARCHIVED
    keys = list(
        (await session.execute(select(files_table.c.storage_key).where(archived))).scalars()
    )
    await results_service.forget_files(session, select(files_table.c.id).where(archived))
    await session.execute(delete(files_table).where(archived))
    return keys


async def embed_job_files(session: AsyncSession, identity: Identity, found: list[Row]) -> None:
    """`embed=files` on jobs: each job's visible files, with one query."""
    ids = [row["id"] for row in found]
    by_job: dict[Any, list[Row]] = {job_id: [] for job_id in ids}
    if ids:
        stmt = (
            select(files_table)
            .where(
                files_table.c.job_id.in_(ids),
                rows.not_archived(FILES),
                file_scope(identity)(FILES),
            )
            .order_by(files_table.c.created_at)
        )
        for item in FILES.public_rows(await session.execute(stmt)):
            by_job[item["job_id"]].append(item)
    for row in found:
        row["files"] = by_job[row["id"]]


work_service.register_job_embed("files", embed_job_files)


async def release_purged_jobs(session: AsyncSession, job_ids: Select[Any]) -> None:
    """The files of jobs being purged are archived and detached from them, so the jobs can go;
    `/files/purge` then removes the files and their content."""
    of_purged_jobs = or_(
        files_table.c.job_id.in_(job_ids),
        files_table.c.jobstate_id.in_(
            select(work_service.jobstates.c.id).where(work_service.jobstates.c.job_id.in_(job_ids))
        ),
    )
    await session.execute(
        update(files_table)
        .where(of_purged_jobs)
        .values(
            state=rows.ARCHIVED, job_id=None, jobstate_id=None, etag=new_etag(), updated_at=utcnow()
        )
    )


work_service.register_job_purge_hook(release_purged_jobs)
