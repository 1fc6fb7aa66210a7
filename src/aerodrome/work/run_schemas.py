"""Wire shapes of the native `/api/v1/runs` and `/api/v1/queues` (counters are read-only)."""

from __future__ import annotations

import uuid
from typing import Any

from pydantic import AwareDatetime, Field

from aerodrome.schemas import Strict, Update


class RunFields(Strict):
    user: str | None = Field(default=None, max_length=255)
    branch: str | None = Field(default=None, max_length=255)
    suite: str | None = Field(default=None, max_length=255)
    machine_type: str | None = Field(default=None, max_length=255)
    sha1: str | None = Field(default=None, max_length=64)
    flavor: str | None = Field(default=None, max_length=64)
    priority: int | None = Field(default=None, ge=-(2**31), lt=2**31)
    scheduled: AwareDatetime | None = None
    data: dict[str, Any] | None = None


class RunCreate(RunFields):
    name: str = Field(min_length=1, max_length=512, pattern=r"^[^/]+$")
    team_id: uuid.UUID | None = None


class RunUpdate(RunFields, Update):
    nullable = frozenset(
        {"user", "branch", "suite", "machine_type", "sha1", "flavor", "priority", "scheduled"}
    )


class QueueCreate(Strict):
    name: str = Field(min_length=1, max_length=255, pattern=r"^[^/]+$")
    data: dict[str, Any] | None = None


class QueueUpdate(Update):
    paused_by: str | None = Field(default=None, max_length=255)
    paused_since: AwareDatetime | None = None
    paused_until: AwareDatetime | None = None
    data: dict[str, Any] | None = None
    nullable = frozenset({"paused_by", "paused_since", "paused_until"})
