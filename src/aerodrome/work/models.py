"""Tables of the work domain.

A job is a job: a DCI job, a paddles job and a pipeline step are rows of one `jobs` table, with
promoted columns for what is queried and a JSON `data` for the rest. `jobs.status` holds the
canonical vocabulary of `aerodrome.work.status`; each façade maps its own words onto it.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Float, ForeignKey, Index, Integer, String, Text, Uuid, text
from sqlalchemy.orm import Mapped, mapped_column

from aerodrome.db.base import Base, ResourceMixin, listed_index
from aerodrome.db.types import JSONType, utcnow


class Queue(ResourceMixin, Base):
    """A named, pausable line of queued jobs that agents claim from."""

    __tablename__ = "queues"
    __table_args__ = (listed_index("queues"),)

    name: Mapped[str] = mapped_column(String(255), unique=True)
    paused_by: Mapped[str | None] = mapped_column(String(255))
    paused_since: Mapped[datetime | None] = mapped_column()
    paused_until: Mapped[datetime | None] = mapped_column()
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)


class Run(ResourceMixin, Base):
    """A named group of jobs: a paddles run, a DCI pipeline.

    The per-status job counters are kept up to date in the transaction of every job write
    (`aerodrome.work.rollup`), so reading a run never counts its jobs.
    """

    __tablename__ = "runs"
    __table_args__ = (
        listed_index("runs"),
        listed_index("runs", "team_id"),
        Index(None, "branch", "created_at"),
        Index(None, "suite", "created_at"),
        Index(None, "machine_type", "created_at"),
        Index(None, "sha1", "created_at"),
        Index(None, "user", "created_at"),
        Index(None, "status", "created_at"),
        # paddles: `/runs/date/…` filters on the scheduled time, `?since=` on the last change,
        # and `/runs/queued/` lists the runs that still have queued jobs, most urgent first.
        Index(None, "scheduled"),
        Index(None, "updated_at"),
        Index(
            "ix_runs_queued",
            "priority",
            "created_at",
            sqlite_where=text("queued > 0"),
            postgresql_where=text("queued > 0"),
        ),
    )

    name: Mapped[str] = mapped_column(String(512), unique=True)
    team_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, ForeignKey("teams.id"))
    status: Mapped[str] = mapped_column(String(32), default="empty")
    user: Mapped[str | None] = mapped_column(String(255))
    branch: Mapped[str | None] = mapped_column(String(255))
    suite: Mapped[str | None] = mapped_column(String(255))
    machine_type: Mapped[str | None] = mapped_column(String(255))
    sha1: Mapped[str | None] = mapped_column(String(64))
    flavor: Mapped[str | None] = mapped_column(String(64))
    priority: Mapped[int | None] = mapped_column(Integer)
    scheduled: Mapped[datetime | None] = mapped_column()
    started: Mapped[datetime | None] = mapped_column()
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # Roll-up of the run's jobs by paddles status; `total` counts them all.
    queued: Mapped[int] = mapped_column(Integer, default=0)
    waiting: Mapped[int] = mapped_column(Integer, default=0)
    running: Mapped[int] = mapped_column(Integer, default=0)
    passed: Mapped[int] = mapped_column("pass", Integer, default=0)
    fail: Mapped[int] = mapped_column(Integer, default=0)
    dead: Mapped[int] = mapped_column(Integer, default=0)
    unknown: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[int] = mapped_column(Integer, default=0)


class JobDefinition(ResourceMixin, Base):
    """What to test on a topic, and how urgently: the seed's scheduling unit."""

    __tablename__ = "jobdefinitions"
    __table_args__ = (
        listed_index("jobdefinitions"),
        Index(None, "topic_id", "priority", "created_at"),
    )

    name: Mapped[str] = mapped_column(String(255))
    topic_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("topics.id"))
    component_types: Mapped[list[str]] = mapped_column(JSONType, default=list)
    tests: Mapped[list[Any]] = mapped_column(JSONType, default=list)
    priority: Mapped[int] = mapped_column(Integer, default=0)
    comment: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)


class Job(ResourceMixin, Base):
    __tablename__ = "jobs"
    __table_args__ = (
        listed_index("jobs"),
        listed_index("jobs", "team_id"),
        listed_index("jobs", "remoteci_id"),
        listed_index("jobs", "topic_id"),
        # A paddles job id is unique within its run.
        Index(None, "run_id", "run_job_id", unique=True),
        Index(None, "run_id", "status"),
        # Claims: the oldest most urgent queued job of a queue.
        Index(
            "ix_jobs_claimable",
            "queue_id",
            "priority",
            "created_at",
            sqlite_where=text("status = 'new'"),
            postgresql_where=text("status = 'new'"),
        ),
        Index(None, "status", "updated_at"),
        # Expiry of silent paddles jobs: DCI jobs (no `run_job_id`) are never expired, so a
        # round must not walk them.
        Index(
            "ix_jobs_paddles_silent",
            "status",
            "updated_at",
            sqlite_where=text("run_job_id IS NOT NULL"),
            postgresql_where=text("run_job_id IS NOT NULL"),
        ),
        Index(None, "jobdefinition_id", "remoteci_id"),
        # Deleting a job checks the jobs that name it as their previous one; without these
        # indexes each check scanned every job (a run's 50 jobs among a million: minutes).
        # Mostly NULL, hence partial: `col = :id` implies `col IS NOT NULL` to both planners.
        Index(
            "ix_jobs_previous_job_id",
            "previous_job_id",
            sqlite_where=text("previous_job_id IS NOT NULL"),
            postgresql_where=text("previous_job_id IS NOT NULL"),
        ),
        Index(
            "ix_jobs_update_previous_job_id",
            "update_previous_job_id",
            sqlite_where=text("update_previous_job_id IS NOT NULL"),
            postgresql_where=text("update_previous_job_id IS NOT NULL"),
        ),
        Index(None, "machine_type", "created_at"),
    )

    name: Mapped[str | None] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(32), default="new")
    team_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, ForeignKey("teams.id"))
    remoteci_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, ForeignKey("remotecis.id"))
    topic_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, ForeignKey("topics.id"))
    product_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, ForeignKey("products.id"))
    jobdefinition_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("jobdefinitions.id")
    )
    run_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, ForeignKey("runs.id"))
    # The job's id inside its run as paddles and teuthology know it ("4242").
    run_job_id: Mapped[str | None] = mapped_column(String(64))
    queue_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, ForeignKey("queues.id"))
    previous_job_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, ForeignKey("jobs.id"))
    update_previous_job_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, ForeignKey("jobs.id"))
    priority: Mapped[int] = mapped_column(Integer, default=0)
    comment: Mapped[str | None] = mapped_column(Text)
    configuration: Mapped[str | None] = mapped_column(String(255))
    url: Mapped[str | None] = mapped_column(Text)
    tags: Mapped[list[str]] = mapped_column(JSONType, default=list)
    # Promoted paddles fields.
    branch: Mapped[str | None] = mapped_column(String(255))
    suite: Mapped[str | None] = mapped_column(String(255))
    sha1: Mapped[str | None] = mapped_column(String(64))
    machine_type: Mapped[str | None] = mapped_column(String(255))
    os_type: Mapped[str | None] = mapped_column(String(64))
    os_version: Mapped[str | None] = mapped_column(String(64))
    description: Mapped[str | None] = mapped_column(Text)
    owner: Mapped[str | None] = mapped_column(String(255))
    posted: Mapped[datetime | None] = mapped_column(default=utcnow)
    started: Mapped[datetime | None] = mapped_column()
    duration: Mapped[float | None] = mapped_column(Float)
    # A claim is a lease: an agent that stops renewing it loses the job.
    claimed_by: Mapped[str | None] = mapped_column(String(255))
    lease_expires_at: Mapped[datetime | None] = mapped_column()
    claims: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)


class JobComponent(Base):
    """The components a job tested, in the topic's order of component types."""

    __tablename__ = "job_components"

    job_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("jobs.id", ondelete="CASCADE"), primary_key=True
    )
    component_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("components.id"), primary_key=True, index=True
    )
    position: Mapped[int] = mapped_column(Integer, default=0)


class Jobstate(Base):
    """One step of a job's status history; append-only."""

    __tablename__ = "jobstates"
    __table_args__ = (Index(None, "job_id", "created_at"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    job_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("jobs.id", ondelete="CASCADE"))
    team_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, ForeignKey("teams.id"))
    status: Mapped[str] = mapped_column(String(32))
    comment: Mapped[str | None] = mapped_column(Text)


class JobKeyValue(Base):
    """A named figure a job reports (`/jobs/<id>/kv`), e.g. a duration or a score."""

    __tablename__ = "job_keyvalues"

    job_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("jobs.id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    value: Mapped[float] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class JobClaim(Base):
    """That a remoteci was given a job definition against one set of components.

    The primary key makes scheduling atomic on both databases: of two concurrent schedulers
    that pick the same work for the same remoteci, one INSERT wins and the other finds the
    row taken (ON CONFLICT DO NOTHING) and moves on to the next candidate.
    """

    __tablename__ = "job_claims"
    # Deleting a job sets its claims' `job_id` to NULL: found by index, not by a scan.
    __table_args__ = (Index(None, "job_id"),)

    remoteci_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("remotecis.id", ondelete="CASCADE"), primary_key=True
    )
    jobdefinition_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("jobdefinitions.id", ondelete="CASCADE"), primary_key=True
    )
    # sha256 of the sorted component ids: the "current latest components" the work was for.
    components_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    # Checked at commit: the scheduler claims the work (naming the job's id) before it
    # inserts the job, so that a lost race costs no job row.
    job_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("jobs.id", ondelete="SET NULL", deferrable=True, initially="DEFERRED")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
