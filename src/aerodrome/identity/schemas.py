"""Wire shapes of the identity domain."""

from __future__ import annotations

import uuid
from typing import Any, Literal

from pydantic import EmailStr, Field

from aerodrome.schemas import Strict, Update

State = Literal["active", "inactive"]
Name = Field(min_length=1, max_length=255)
OptionalName = Field(default=None, min_length=1, max_length=255)


class TeamCreate(Strict):
    name: str = Name
    reads_all: bool = False
    external: bool = True
    country: str | None = Field(default=None, max_length=255)
    has_pre_release_access: bool = False
    state: State = "active"


class TeamUpdate(Update):
    nullable = frozenset({"country"})

    name: str | None = OptionalName
    reads_all: bool | None = None
    external: bool | None = None
    country: str | None = Field(default=None, max_length=255)
    has_pre_release_access: bool | None = None
    state: State | None = None


class UserCreate(Strict):
    name: str = Name
    email: EmailStr | None = None
    fullname: str = Field(default="", max_length=255)
    timezone: str = Field(default="UTC", max_length=64)
    password: str = Field(min_length=8, max_length=1024)
    team_ids: list[uuid.UUID] = Field(default_factory=list)
    state: State = "active"


class UserUpdate(Update):
    nullable = frozenset({"email"})

    name: str | None = OptionalName
    email: EmailStr | None = None
    fullname: str | None = Field(default=None, max_length=255)
    timezone: str | None = Field(default=None, max_length=64)
    password: str | None = Field(default=None, min_length=8, max_length=1024)
    team_ids: list[uuid.UUID] | None = None
    state: State | None = None


class AgentCreate(Strict):
    """A remoteci or a feeder."""

    name: str = Name
    team_id: uuid.UUID
    data: dict[str, Any] = Field(default_factory=dict)
    state: State = "active"


class AgentUpdate(Update):
    name: str | None = OptionalName
    # Moving an agent: the caller must belong to both teams (super admins move any).
    team_id: uuid.UUID | None = None
    data: dict[str, Any] | None = None
    state: State | None = None


class RemoteciCreate(AgentCreate):
    public: bool = False


class RemoteciUpdate(AgentUpdate):
    public: bool | None = None


class RemoteciUserAdd(Strict):
    """Attach a user to a remoteci (DCI's subscription to a remoteci's jobs)."""

    user_id: uuid.UUID


class TokenCreate(Strict):
    name: str = Name
    expires_in_days: int | None = Field(default=None, ge=1, le=3650)
