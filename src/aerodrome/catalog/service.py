"""Catalog rules: who may publish component types and components, and how they are named."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import ColumnElement, exists, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from aerodrome.catalog.models import Component, ComponentType, Product, ProductTeam, Topic
from aerodrome.crud import ResourceService
from aerodrome.db import resources as rows
from aerodrome.db.resources import ListQuery, Page, Relation, Resource, Row, get_row
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


product_teams = ProductTeam.__table__
products = Product.__table__
topics = Topic.__table__


def _require_publisher(identity: Identity) -> None:
    """Global catalog entries are published by super admins and feeders."""
    access.require_authenticated(identity)
    if identity.kind != "feeder":
        access.require_super_admin(identity)


async def _require_product_publisher(
    session: AsyncSession, identity: Identity, product_id: uuid.UUID | None
) -> None:
    """Super admins and feeders publish anywhere; a product's owners publish in its topics."""
    access.require_authenticated(identity)
    if identity.is_super_admin or identity.kind == "feeder":
        return
    owner = None
    if product_id is not None:
        stmt = select(products.c.team_id).where(products.c.id == product_id)
        owner = (await session.execute(stmt)).scalar_one_or_none()
    if owner is None or identity.kind != "user":
        access.require_super_admin(identity)
    access.require_team_member(identity, owner)


async def _topic_product(session: AsyncSession, topic_id: uuid.UUID | None) -> uuid.UUID | None:
    if topic_id is None:
        return None
    stmt = select(topics.c.product_id).where(topics.c.id == topic_id)
    return (await session.execute(stmt)).scalar_one_or_none()


async def _require_existing(
    session: AsyncSession, resource: Resource, field: str, key: uuid.UUID | None
) -> None:
    if key is None:
        return
    table = resource.table
    found = await session.execute(
        select(table.c.id).where(table.c.id == key, rows.not_archived(resource))
    )
    if found.first() is None:
        raise InvalidInput(f"unknown {field} {key}", payload={field: str(key)})


def usable_topics(team_ids: Iterable[uuid.UUID]) -> ColumnElement[bool]:
    """Topics a team may run jobs on: those of no product, or of a product it was given."""
    team_list = list(team_ids)
    granted = exists().where(
        product_teams.c.product_id == topics.c.product_id,
        product_teams.c.team_id.in_(team_list),
    )
    return or_(topics.c.product_id.is_(None), granted)


class TopicService(ResourceService):
    """Topics are published by super admins, feeders and the owners of their product."""

    async def check_write(
        self, session: AsyncSession, identity: Identity, row: Mapping[str, Any]
    ) -> None:
        await _require_product_publisher(session, identity, row.get("product_id"))

    async def prepare_create(
        self, session: AsyncSession, identity: Identity, values: dict[str, Any]
    ) -> dict[str, Any]:
        await self._check_references(session, values)
        return values

    async def prepare_update(
        self,
        session: AsyncSession,
        identity: Identity,
        current: Mapping[str, Any],
        values: dict[str, Any],
    ) -> dict[str, Any]:
        await self._check_references(session, values)
        if values.get("next_topic_id") == current["id"]:
            raise InvalidInput("a topic cannot be its own next topic")
        return values

    async def _check_references(self, session: AsyncSession, values: Mapping[str, Any]) -> None:
        await _require_existing(session, PRODUCTS, "product_id", values.get("product_id"))
        await _require_existing(session, TOPICS, "next_topic_id", values.get("next_topic_id"))

    async def list_components(
        self, session: AsyncSession, identity: Identity, key: str, query: ListQuery
    ) -> Page:
        """The components of one topic that `identity` may see (public or its teams')."""
        topic = await self.get(session, identity, key)
        in_topic = COMPONENTS.column("topic_id") == topic["id"]
        scoped = dataclasses.replace(query, filters=(*query.filters, in_topic))
        return await rows.list_rows(session, COMPONENTS, scoped, access.scope_for(identity))


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

    async def list_teams(self, session: AsyncSession, identity: Identity, key: str) -> list[Row]:
        """The teams that may use the product's topics (those `identity` may see)."""
        product = await self.get(session, identity, key)
        teams = identity_service.TEAMS
        stmt = (
            select(teams.table)
            .join(product_teams, product_teams.c.team_id == teams.column("id"))
            .where(
                product_teams.c.product_id == product["id"],
                access.scope_for(identity)(teams),
            )
            .order_by(teams.column("name"))
        )
        return teams.public_rows(await session.execute(stmt))

    async def add_team(
        self, session: AsyncSession, identity: Identity, key: str, team_id: uuid.UUID
    ) -> Row:
        """Give `team_id` the use of the product's topics (super admins and product owners)."""
        product = await self.get(session, identity, key)
        await self.check_write(session, identity, product)
        await _require_existing(session, identity_service.TEAMS, "team_id", team_id)
        link = {"product_id": product["id"], "team_id": team_id}
        duplicate = f"team {team_id} already has access to this product"
        await rows.add_link(session, product_teams, link, duplicate=duplicate)
        return link

    async def remove_team(
        self, session: AsyncSession, identity: Identity, key: str, team_id: uuid.UUID
    ) -> None:
        product = await self.get(session, identity, key)
        await self.check_write(session, identity, product)
        link = {"product_id": product["id"], "team_id": team_id}
        missing = f"team {team_id} has no access to this product"
        await rows.remove_link(session, product_teams, link, missing=missing)


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
            product_id = await _topic_product(session, row.get("topic_id"))
            await _require_product_publisher(session, identity, product_id)
        else:
            access.require_team_member(identity, row["team_id"])

    async def prepare_create(
        self, session: AsyncSession, identity: Identity, values: dict[str, Any]
    ) -> dict[str, Any]:
        values = _display_name(_without_nones(values))
        await _require_existing(session, TOPICS, "topic_id", values.get("topic_id"))
        return await self._resolve_type(session, identity, values)

    async def prepare_update(
        self,
        session: AsyncSession,
        identity: Identity,
        current: Mapping[str, Any],
        values: dict[str, Any],
    ) -> dict[str, Any]:
        values = _display_name(values)
        await _require_existing(session, TOPICS, "topic_id", values.get("topic_id"))
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


def _display_name(values: dict[str, Any]) -> dict[str, Any]:
    # dciclient names components by `display_name`; the table's column is `name`.
    display_name = values.pop("display_name", None)
    if display_name is not None and "name" not in values:
        values["name"] = display_name
    return values


def _without_nones(values: dict[str, Any]) -> dict[str, Any]:
    # On create an explicit null means "the default", which the table supplies.
    return {k: v for k, v in values.items() if v is not None}


product_service = ProductService(PRODUCTS)
topic_service = TopicService(TOPICS)
componenttype_service = ComponentTypeService(COMPONENTTYPES)
component_service = ComponentService(COMPONENTS)
