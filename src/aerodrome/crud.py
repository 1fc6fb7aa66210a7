"""The service side of a REST resource: read with team scoping, write with a permission rule.

Domain services subclass `ResourceService` and override `prepare_create`, `prepare_update`
and `check_write` to add their rules; everything else (lists, etags, soft delete, purge)
behaves the same for every resource.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from aerodrome.db import resources as rows
from aerodrome.db.resources import ListQuery, Page, Resource, Row
from aerodrome.identity import access
from aerodrome.identity.principal import Identity

Rows = list[Row]


class ResourceService:
    """CRUD over one `Resource`. Writes default to super admins only."""

    def __init__(self, resource: Resource) -> None:
        self.resource = resource

    async def list(self, session: AsyncSession, identity: Identity, query: ListQuery) -> Page:
        """A page of the rows `identity` may see, with the total count."""
        scope = self.scope(identity)
        # The scope is this service's rule applied to this caller: the pair is its key.
        return await rows.list_rows(
            session, self.resource, query, scope, scope_key=(self, identity)
        )

    async def get(
        self,
        session: AsyncSession,
        identity: Identity,
        key: str | uuid.UUID,
        *,
        embeds: Sequence[str] = (),
    ) -> Row:
        """One row `identity` may see, by id or alternate key."""
        return await rows.get_row(session, self.resource, key, self.scope(identity), embeds=embeds)

    async def create(self, session: AsyncSession, identity: Identity, data: BaseModel) -> Row:
        values = await self.prepare_create(session, identity, data.model_dump(exclude_unset=True))
        await self.check_write(session, identity, values)
        return await rows.insert_row(session, self.resource, values)

    async def update(
        self,
        session: AsyncSession,
        identity: Identity,
        key: str,
        *,
        if_match: str,
        data: BaseModel,
    ) -> Row:
        current = await self.get(session, identity, key)
        await self.check_write(session, identity, current)
        values = await self.prepare_update(
            session, identity, current, data.model_dump(exclude_unset=True)
        )
        if values:
            await self.check_write(session, identity, {**current, **values})
        return await rows.update_row(
            session, self.resource, current["id"], if_match=if_match, values=values
        )

    async def delete(
        self, session: AsyncSession, identity: Identity, key: str, *, if_match: str
    ) -> None:
        """Soft delete: the row becomes `archived` and disappears from lists until purged."""
        current = await self.get(session, identity, key)
        await self.check_write(session, identity, current)
        await rows.archive_row(session, self.resource, current["id"], if_match=if_match)

    async def list_archived(self, session: AsyncSession, identity: Identity) -> Rows:
        access.require_super_admin(identity)
        return await rows.list_archived(session, self.resource, self.scope(identity))

    async def purge(self, session: AsyncSession, identity: Identity) -> int:
        access.require_super_admin(identity)
        return await rows.purge_archived(session, self.resource, self.scope(identity))

    def scope(self, identity: Identity) -> rows.ScopeFor:
        return access.scope_for(identity)

    async def prepare_create(
        self, session: AsyncSession, identity: Identity, values: dict[str, Any]
    ) -> dict[str, Any]:
        """Validate and complete the values of a new row (override to add rules)."""
        return values

    async def prepare_update(
        self,
        session: AsyncSession,
        identity: Identity,
        current: Mapping[str, Any],
        values: dict[str, Any],
    ) -> dict[str, Any]:
        """Validate the changed values of an existing row (override to add rules)."""
        return values

    async def check_write(
        self, session: AsyncSession, identity: Identity, row: Mapping[str, Any]
    ) -> None:
        """Raise unless `identity` may write `row` (checked before and after the change)."""
        access.require_super_admin(identity)
