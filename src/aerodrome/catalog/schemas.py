"""Wire shapes of the catalog."""

from __future__ import annotations

import uuid
from typing import Any, Literal

from pydantic import AwareDatetime, Field, model_validator

from aerodrome.schemas import Strict, Update

State = Literal["active", "inactive"]


class ComponentTypeCreate(Strict):
    name: str = Field(min_length=1, max_length=255)
    state: State = "active"


class ComponentTypeUpdate(Update):
    name: str | None = Field(default=None, min_length=1, max_length=255)
    state: State | None = None


class ComponentFields(Strict):
    version: str | None = Field(default=None, max_length=255)
    train: str | None = Field(default=None, max_length=64)
    released_at: AwareDatetime | None = None
    url: str | None = Field(default=None, max_length=2048)
    data: dict[str, Any] | None = None
    tags: list[str] | None = Field(default=None, max_length=100)
    state: State | None = None
    # The seed README's field: a component type's id or name, accepted instead of `type`.
    componenttype: str | None = Field(default=None, min_length=1, max_length=255)
    # dciclient's name for `name` (DCI 4 components carry a display name).
    display_name: str | None = Field(default=None, min_length=1, max_length=255)
    topic_id: uuid.UUID | None = None


class ComponentCreate(ComponentFields):
    name: str | None = Field(default=None, min_length=1, max_length=255)
    type: str | None = Field(default=None, min_length=1, max_length=255)
    team_id: uuid.UUID | None = None

    @model_validator(mode="after")
    def _needs_a_type(self) -> ComponentCreate:
        if self.type is None and self.componenttype is None:
            raise ValueError("either type or componenttype is required")
        if self.name is None and self.display_name is None:
            raise ValueError("either name or display_name is required")
        return self


class ComponentUpdate(ComponentFields, Update):
    nullable = frozenset({"released_at", "url", "topic_id"})

    name: str | None = Field(default=None, min_length=1, max_length=255)
    type: str | None = Field(default=None, min_length=1, max_length=255)


class ProductCreate(Strict):
    name: str = Field(min_length=1, max_length=255)
    label: str = Field(default="", max_length=255)
    description: str = Field(default="", max_length=10_000)
    team_id: uuid.UUID | None = None
    state: State = "active"


class ProductUpdate(Update):
    nullable = frozenset({"team_id"})

    name: str | None = Field(default=None, min_length=1, max_length=255)
    label: str | None = Field(default=None, max_length=255)
    description: str | None = Field(default=None, max_length=10_000)
    team_id: uuid.UUID | None = None
    state: State | None = None


class TopicCreate(Strict):
    name: str = Field(min_length=1, max_length=255)
    product_id: uuid.UUID | None = None
    component_types: list[str] = Field(default_factory=list, max_length=50)
    next_topic_id: uuid.UUID | None = None
    export_control: bool = False
    data: dict[str, Any] = Field(default_factory=dict)
    state: State = "active"


class TopicUpdate(Update):
    nullable = frozenset({"product_id", "next_topic_id"})

    name: str | None = Field(default=None, min_length=1, max_length=255)
    product_id: uuid.UUID | None = None
    component_types: list[str] | None = Field(default=None, max_length=50)
    next_topic_id: uuid.UUID | None = None
    export_control: bool | None = None
    data: dict[str, Any] | None = None
    state: State | None = None


class ProductTeamAdd(Strict):
    """Give a team the use of a product's topics."""

    team_id: uuid.UUID
