"""Tables of the catalog: what can be tested (component types and components)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, String, Text, Uuid, text
from sqlalchemy.orm import Mapped, mapped_column

from aerodrome.db.base import LISTED, Base, ResourceMixin, listed_index
from aerodrome.db.types import JSONType


class Product(ResourceMixin, Base):
    """What a group of topics ships; managed by the members of its owning team."""

    __tablename__ = "products"
    __table_args__ = (listed_index("products"),)

    name: Mapped[str] = mapped_column(String(255), unique=True)
    label: Mapped[str] = mapped_column(String(255), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    # The product owners: members of this team manage the product (DCI's product owners).
    team_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, ForeignKey("teams.id"))


class ProductTeam(Base):
    """A team that may use a product's topics (DCI's team ↔ product access)."""

    __tablename__ = "product_teams"

    product_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("products.id", ondelete="CASCADE"), primary_key=True
    )
    team_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class Topic(ResourceMixin, Base):
    """A line of releases of a product (e.g. "RHEL-9.4"); its components are what jobs test."""

    __tablename__ = "topics"
    __table_args__ = (listed_index("topics"), listed_index("topics", "product_id"))

    name: Mapped[str] = mapped_column(String(255), unique=True)
    product_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, ForeignKey("products.id"))
    # Ordered: a scheduled job gets the newest component of each type, in this order.
    component_types: Mapped[list[str]] = mapped_column(JSONType, default=list)
    next_topic_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, ForeignKey("topics.id"))
    export_control: Mapped[bool] = mapped_column(Boolean, default=False)
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)


class ComponentType(ResourceMixin, Base):
    __tablename__ = "componenttypes"
    __table_args__ = (listed_index("componenttypes"),)

    name: Mapped[str] = mapped_column(String(255), unique=True)


class Component(ResourceMixin, Base):
    """A versioned deliverable: a DCI component, a Deis release, a UCI package."""

    __tablename__ = "components"
    __table_args__ = (
        # Lists never show archived rows: partial indexes keep them out and, with the team
        # last (for the visibility filter), make the count of a list an index-only scan.
        Index("ix_components_listed", "created_at", "id", "team_id", **LISTED),
        Index("ix_components_listed_by_type", "type", "created_at", "id", "team_id", **LISTED),
        listed_index("components", "team_id"),
        listed_index("components", "topic_id"),
        Index(None, "name", "train", "released_at"),
        # A release (Deis) is unique by name, train and version: publishing upserts on it.
        Index(
            "uq_components_release",
            "name",
            "train",
            "version",
            unique=True,
            sqlite_where=text("type = 'release'"),
            postgresql_where=text("type = 'release'"),
        ),
        # Scheduling: the newest active component of each type in a topic.
        Index(None, "topic_id", "type", "created_at"),
    )

    name: Mapped[str] = mapped_column(String(255))
    type: Mapped[str] = mapped_column(String(255))
    version: Mapped[str] = mapped_column(String(255), default="")
    train: Mapped[str] = mapped_column(String(64), default="")
    released_at: Mapped[datetime | None] = mapped_column()
    url: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    tags: Mapped[list[str]] = mapped_column(JSONType, default=list)
    # NULL team: a public component, visible to everyone.
    team_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, ForeignKey("teams.id"))
    # NULL topic: a component outside DCI's topics (a Deis release, a UCI package).
    topic_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, ForeignKey("topics.id"))
