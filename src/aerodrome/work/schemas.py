"""Wire shapes of the work domain: jobs, job states, key/values, pipelines, job definitions.

A DCI pipeline is a run: `pipeline_id` on the wire is the job's `run_id` column.
"""

from __future__ import annotations

import uuid
from typing import Any, Literal

from pydantic import Field, field_validator

from aerodrome.schemas import Strict, Update

State = Literal["active", "inactive"]
DciStatus = Literal[
    "new", "pre-run", "running", "post-run", "success", "failure", "killed", "error"
]
Name = Field(default=None, min_length=1, max_length=255)
Tags = Field(default=None, max_length=100)


class JobFields(Strict):
    """What a client may say about a job when it creates or schedules one."""

    name: str | None = Name
    comment: str | None = Field(default=None, max_length=10_000)
    configuration: str | None = Field(default=None, max_length=255)
    url: str | None = Field(default=None, max_length=2048)
    tags: list[str] | None = Tags
    data: dict[str, Any] | None = None
    pipeline_id: uuid.UUID | None = None
    previous_job_id: uuid.UUID | None = None


class JobCreate(JobFields):
    topic_id: uuid.UUID
    # Who runs it; a remoteci creating a job may leave it out (it is the remoteci itself).
    remoteci_id: uuid.UUID | None = None
    components: list[uuid.UUID] = Field(default_factory=list, max_length=100)
    team_id: uuid.UUID | None = None
    jobdefinition_id: uuid.UUID | None = None


class JobSchedule(JobFields):
    """`POST /jobs/schedule`: with a topic, the newest components of its types; without
    one, the most urgent job definition this remoteci has not run yet."""

    topic_id: uuid.UUID | None = None
    # Components to use instead of the newest of their type.
    components_ids: list[uuid.UUID] = Field(default_factory=list, max_length=100)
    # Sent by some clients; the remoteci is always the caller, the team always its team.
    remoteci_id: uuid.UUID | None = None
    team_id: uuid.UUID | None = None


class JobUpgrade(Strict):
    job_id: uuid.UUID


class JobUpdate(Update):
    nullable = frozenset({"comment", "configuration", "url", "status_reason"})

    name: str | None = Name
    comment: str | None = Field(default=None, max_length=10_000)
    configuration: str | None = Field(default=None, max_length=255)
    url: str | None = Field(default=None, max_length=2048)
    tags: list[str] | None = Tags
    data: dict[str, Any] | None = None
    state: State | None = None
    # A status change through PUT is recorded as a job state, like POST /jobstates.
    status: DciStatus | None = None
    status_reason: str | None = Field(default=None, max_length=10_000)


class JobstateCreate(Strict):
    job_id: uuid.UUID
    status: DciStatus
    comment: str | None = Field(default=None, max_length=10_000)


class KeyValueCreate(Strict):
    key: str = Field(min_length=1, max_length=255)
    value: float


class KeyValueDelete(Strict):
    key: str = Field(min_length=1, max_length=255)


class PipelineCreate(Strict):
    name: str = Field(min_length=1, max_length=512)
    team_id: uuid.UUID
    data: dict[str, Any] = Field(default_factory=dict)
    state: State = "active"


class PipelineUpdate(Update):
    name: str | None = Field(default=None, min_length=1, max_length=512)
    data: dict[str, Any] | None = None
    state: State | None = None

    @field_validator("state", mode="before")
    @classmethod
    def _state_from_flag(cls, value: Any) -> Any:
        # dcictl's `pipeline-update --active/--no-active` sends the flag itself, true or false.
        if isinstance(value, bool):
            return "active" if value else "inactive"
        return value


class JobDefinitionCreate(Strict):
    name: str = Field(min_length=1, max_length=255)
    topic_id: uuid.UUID
    # The component types the tests need; empty means all of the topic's.
    component_types: list[str] = Field(default_factory=list, max_length=50)
    tests: list[Any] = Field(default_factory=list, max_length=1000)
    priority: int = Field(default=0, ge=-1_000_000, le=1_000_000)
    comment: str | None = Field(default=None, max_length=10_000)
    data: dict[str, Any] = Field(default_factory=dict)
    state: State = "active"


class JobDefinitionUpdate(Update):
    nullable = frozenset({"comment"})

    name: str | None = Field(default=None, min_length=1, max_length=255)
    component_types: list[str] | None = Field(default=None, max_length=50)
    tests: list[Any] | None = Field(default=None, max_length=1000)
    priority: int | None = Field(default=None, ge=-1_000_000, le=1_000_000)
    comment: str | None = Field(default=None, max_length=10_000)
    data: dict[str, Any] | None = None
    state: State | None = None
