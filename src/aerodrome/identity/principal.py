"""Who is calling: the identity every service receives."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Literal

PrincipalKind = Literal["user", "remoteci", "feeder", "anonymous"]


@dataclass(frozen=True)
class TeamRef:
    id: uuid.UUID
    name: str


@dataclass(frozen=True)
class Identity:
    kind: PrincipalKind
    id: uuid.UUID | None
    name: str
    teams: tuple[TeamRef, ...] = ()
    email: str | None = None
    # Members of the `admin` team: may do anything.
    is_super_admin: bool = False
    # Members of a team with `reads_all`: may read every team's resources, write only their own.
    reads_all: bool = False
    team_ids: frozenset[uuid.UUID] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "team_ids", frozenset(t.id for t in self.teams))

    @property
    def is_authenticated(self) -> bool:
        return self.kind != "anonymous"

    @property
    def sees_everything(self) -> bool:
        return self.is_super_admin or self.reads_all


ANONYMOUS = Identity(kind="anonymous", id=None, name="anonymous")
