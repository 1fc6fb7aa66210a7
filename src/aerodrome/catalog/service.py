"""Catalog rules: who may publish component types and components, and how they are named."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from aerodrome.catalog.models import Component, ComponentType, Product, Topic
from aerodrome.crud import ResourceService
from aerodrome.db.resources import Relation, Resource, get_row
from aerodrome.errors import InvalidInput, NotFound
from aerodrome.identity import access
from aerodrome.identity import service as identity_service
from aerodrome.identity.principal import Identity

PRODUCTS = Resource(
    "product",
    "products",
    Product.__table__,
    alternate_keys=("name",),
    relations={"team": Relation("team", "team_id", identity_service.TEAMS)},
)
TOPICS = Resource(
    "topic",
    "topics",
    Topic.__table__,
    alternate_keys=("name",),
    relations={"product": Relation("product", "product_id", PRODUCTS)},
)
COMPONENTTYPES = Resource(
    "componenttype",
    "componenttypes",
    ComponentType.__table__,
    alternate_keys=("name",),
)
COMPONENTS = Resource(
    "component",
    "components",
    Component.__table__,
    team_key="team_id",
    public_without_team=True,
    relations={
        "team": Relation("team", "team_id", identity_service.TEAMS),
        "componenttype": Relation("componenttype", "type", COMPONENTTYPES, remote_key="name"),
        "topic": Relation("topic", "topic_id", TOPICS),
    },
)


def _require_publisher(identity: Identity) -> None:
    """Global catalog entries are published by super admins and feeders."""
    access.require_authenticated(identity)
    if identity.kind != "feeder":
        access.require_super_admin(identity)


class ProductService(ResourceService):
    """Super admins create products and choose their owning team; the members of that team
    (the product owners) manage the product but cannot hand it to another team."""

    async def check_write(
        self, session: AsyncSession, identity: Identity, row: Mapping[str, Any]
    ) -> None:
        if identity.is_super_admin:
            return
        access.require_user(identity)
        if row.get("id") is None:  # creating one
            access.require_super_admin(identity)
        access.require_team_member(identity, row.get("team_id"))


class ComponentTypeService(ResourceService):
    async def check_write(
        self, session: AsyncSession, identity: Identity, row: Mapping[str, Any]
    ) -> None:
        _require_publisher(identity)


class ComponentService(ResourceService):
    """Public components (no team) are published by super admins and feeders; a team's
    private components by its members."""

    async def check_write(
        self, session: AsyncSession, identity: Identity, row: Mapping[str, Any]
    ) -> None:
        if row.get("team_id") is None:
            _require_publisher(identity)
        else:
            access.require_team_member(identity, row["team_id"])

    async def prepare_create(
        self, session: AsyncSession, identity: Identity, values: dict[str, Any]
    ) -> dict[str, Any]:
        return await self._resolve_type(session, identity, _without_nones(values))

    async def prepare_update(
        self,
        session: AsyncSession,
        identity: Identity,
        current: Mapping[str, Any],
        values: dict[str, Any],
    ) -> dict[str, Any]:
        return await self._resolve_type(session, identity, values)

    async def _resolve_type(
        self, session: AsyncSession, identity: Identity, values: dict[str, Any]
    ) -> dict[str, Any]:
        key = values.pop("componenttype", None)
        if key is None:
            return values
        try:
            found = await get_row(session, COMPONENTTYPES, key, access.scope_for(identity))
        except NotFound:
            raise InvalidInput(f"unknown componenttype {key!r}") from None
        if values.get("type") not in (None, found["name"]):
            raise InvalidInput(
                f"type {values['type']!r} contradicts componenttype {found['name']!r}"
            )
        return {**values, "type": found["name"]}


def _without_nones(values: dict[str, Any]) -> dict[str, Any]:
    # On create an explicit null means "the default", which the table supplies.
    return {k: v for k, v in values.items() if v is not None}


product_service = ProductService(PRODUCTS)
componenttype_service = ComponentTypeService(COMPONENTTYPES)
component_service = ComponentService(COMPONENTS)
