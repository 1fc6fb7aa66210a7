"""Work: topics, team access to products, runs, queues, job definitions, jobs, job states.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 15:05:48.071226
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import aerodrome.db.types

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "queues",
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("paused_by", sa.String(length=255), nullable=True),
        sa.Column("paused_since", aerodrome.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("paused_until", aerodrome.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("data", aerodrome.db.types.JSONType, nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", aerodrome.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", aerodrome.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("etag", sa.String(length=32), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_queues")),
        sa.UniqueConstraint("name", name=op.f("uq_queues_name")),
    )
    with op.batch_alter_table("queues", schema=None) as batch_op:
        batch_op.create_index(
            "ix_queues_listed",
            ["created_at", "id"],
            unique=False,
            sqlite_where=sa.text("state != 'archived'"),
            postgresql_where=sa.text("state != 'archived'"),
        )

    op.create_table(
        "runs",
        sa.Column("name", sa.String(length=512), nullable=False),
        sa.Column("team_id", sa.Uuid(), nullable=True),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("user", sa.String(length=255), nullable=True),
        sa.Column("branch", sa.String(length=255), nullable=True),
        sa.Column("suite", sa.String(length=255), nullable=True),
        sa.Column("machine_type", sa.String(length=255), nullable=True),
        sa.Column("sha1", sa.String(length=64), nullable=True),
        sa.Column("flavor", sa.String(length=64), nullable=True),
        sa.Column("priority", sa.Integer(), nullable=True),
        sa.Column("scheduled", aerodrome.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("started", aerodrome.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("data", aerodrome.db.types.JSONType, nullable=False),
        sa.Column("queued", sa.Integer(), nullable=False),
        sa.Column("waiting", sa.Integer(), nullable=False),
        sa.Column("running", sa.Integer(), nullable=False),
        sa.Column("pass", sa.Integer(), nullable=False),
        sa.Column("fail", sa.Integer(), nullable=False),
        sa.Column("dead", sa.Integer(), nullable=False),
        sa.Column("unknown", sa.Integer(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", aerodrome.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", aerodrome.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("etag", sa.String(length=32), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(["team_id"], ["teams.id"], name=op.f("fk_runs_team_id_teams")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_runs")),
        sa.UniqueConstraint("name", name=op.f("uq_runs_name")),
    )
    with op.batch_alter_table("runs", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_runs_branch_created_at"), ["branch", "created_at"], unique=False
        )
        batch_op.create_index(
            "ix_runs_listed",
            ["created_at", "id"],
            unique=False,
            sqlite_where=sa.text("state != 'archived'"),
            postgresql_where=sa.text("state != 'archived'"),
        )
        batch_op.create_index(
            "ix_runs_listed_by_team_id",
            ["team_id", "created_at", "id"],
            unique=False,
            sqlite_where=sa.text("state != 'archived'"),
            postgresql_where=sa.text("state != 'archived'"),
        )
        batch_op.create_index(
            batch_op.f("ix_runs_machine_type_created_at"),
            ["machine_type", "created_at"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_runs_sha1_created_at"), ["sha1", "created_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_runs_status_created_at"), ["status", "created_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_runs_suite_created_at"), ["suite", "created_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_runs_user_created_at"), ["user", "created_at"], unique=False
        )

    op.create_table(
        "product_teams",
        sa.Column("product_id", sa.Uuid(), nullable=False),
        sa.Column("team_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["products.id"],
            name=op.f("fk_product_teams_product_id_products"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["team_id"],
            ["teams.id"],
            name=op.f("fk_product_teams_team_id_teams"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("product_id", "team_id", name=op.f("pk_product_teams")),
    )
    with op.batch_alter_table("product_teams", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_product_teams_team_id"), ["team_id"], unique=False)

    op.create_table(
        "topics",
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("product_id", sa.Uuid(), nullable=True),
        sa.Column("component_types", aerodrome.db.types.JSONType, nullable=False),
        sa.Column("next_topic_id", sa.Uuid(), nullable=True),
        sa.Column("export_control", sa.Boolean(), nullable=False),
        sa.Column("data", aerodrome.db.types.JSONType, nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", aerodrome.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", aerodrome.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("etag", sa.String(length=32), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["next_topic_id"], ["topics.id"], name=op.f("fk_topics_next_topic_id_topics")
        ),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name=op.f("fk_topics_product_id_products")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_topics")),
        sa.UniqueConstraint("name", name=op.f("uq_topics_name")),
    )
    with op.batch_alter_table("topics", schema=None) as batch_op:
        batch_op.create_index(
            "ix_topics_listed",
            ["created_at", "id"],
            unique=False,
            sqlite_where=sa.text("state != 'archived'"),
            postgresql_where=sa.text("state != 'archived'"),
        )
        batch_op.create_index(
            "ix_topics_listed_by_product_id",
            ["product_id", "created_at", "id"],
            unique=False,
            sqlite_where=sa.text("state != 'archived'"),
            postgresql_where=sa.text("state != 'archived'"),
        )

    op.create_table(
        "jobdefinitions",
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("topic_id", sa.Uuid(), nullable=False),
        sa.Column("component_types", aerodrome.db.types.JSONType, nullable=False),
        sa.Column("tests", aerodrome.db.types.JSONType, nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("data", aerodrome.db.types.JSONType, nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", aerodrome.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", aerodrome.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("etag", sa.String(length=32), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["topic_id"], ["topics.id"], name=op.f("fk_jobdefinitions_topic_id_topics")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jobdefinitions")),
    )
    with op.batch_alter_table("jobdefinitions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_jobdefinitions_listed",
            ["created_at", "id"],
            unique=False,
            sqlite_where=sa.text("state != 'archived'"),
            postgresql_where=sa.text("state != 'archived'"),
        )
        batch_op.create_index(
            batch_op.f("ix_jobdefinitions_topic_id_priority_created_at"),
            ["topic_id", "priority", "created_at"],
            unique=False,
        )

    op.create_table(
        "jobs",
        sa.Column("name", sa.String(length=255), nullable=True),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("team_id", sa.Uuid(), nullable=True),
        sa.Column("remoteci_id", sa.Uuid(), nullable=True),
        sa.Column("topic_id", sa.Uuid(), nullable=True),
        sa.Column("product_id", sa.Uuid(), nullable=True),
        sa.Column("jobdefinition_id", sa.Uuid(), nullable=True),
        sa.Column("run_id", sa.Uuid(), nullable=True),
        sa.Column("run_job_id", sa.String(length=64), nullable=True),
        sa.Column("queue_id", sa.Uuid(), nullable=True),
        sa.Column("previous_job_id", sa.Uuid(), nullable=True),
        sa.Column("update_previous_job_id", sa.Uuid(), nullable=True),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("configuration", sa.String(length=255), nullable=True),
        sa.Column("url", sa.Text(), nullable=True),
        sa.Column("tags", aerodrome.db.types.JSONType, nullable=False),
        sa.Column("branch", sa.String(length=255), nullable=True),
        sa.Column("suite", sa.String(length=255), nullable=True),
        sa.Column("sha1", sa.String(length=64), nullable=True),
        sa.Column("machine_type", sa.String(length=255), nullable=True),
        sa.Column("os_type", sa.String(length=64), nullable=True),
        sa.Column("os_version", sa.String(length=64), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("owner", sa.String(length=255), nullable=True),
        sa.Column("posted", aerodrome.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("started", aerodrome.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("duration", sa.Float(), nullable=True),
        sa.Column("claimed_by", sa.String(length=255), nullable=True),
        sa.Column("lease_expires_at", aerodrome.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("data", aerodrome.db.types.JSONType, nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", aerodrome.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", aerodrome.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("etag", sa.String(length=32), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["jobdefinition_id"],
            ["jobdefinitions.id"],
            name=op.f("fk_jobs_jobdefinition_id_jobdefinitions"),
        ),
        sa.ForeignKeyConstraint(
            ["previous_job_id"], ["jobs.id"], name=op.f("fk_jobs_previous_job_id_jobs")
        ),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name=op.f("fk_jobs_product_id_products")
        ),
        sa.ForeignKeyConstraint(["queue_id"], ["queues.id"], name=op.f("fk_jobs_queue_id_queues")),
        sa.ForeignKeyConstraint(
            ["remoteci_id"], ["remotecis.id"], name=op.f("fk_jobs_remoteci_id_remotecis")
        ),
        sa.ForeignKeyConstraint(["run_id"], ["runs.id"], name=op.f("fk_jobs_run_id_runs")),
        sa.ForeignKeyConstraint(["team_id"], ["teams.id"], name=op.f("fk_jobs_team_id_teams")),
        sa.ForeignKeyConstraint(["topic_id"], ["topics.id"], name=op.f("fk_jobs_topic_id_topics")),
        sa.ForeignKeyConstraint(
            ["update_previous_job_id"],
            ["jobs.id"],
            name=op.f("fk_jobs_update_previous_job_id_jobs"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jobs")),
    )
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.create_index(
            "ix_jobs_claimable",
            ["queue_id", "priority", "created_at"],
            unique=False,
            sqlite_where=sa.text("status = 'new'"),
            postgresql_where=sa.text("status = 'new'"),
        )
        batch_op.create_index(
            batch_op.f("ix_jobs_jobdefinition_id_remoteci_id"),
            ["jobdefinition_id", "remoteci_id"],
            unique=False,
        )
        batch_op.create_index(
            "ix_jobs_listed",
            ["created_at", "id"],
            unique=False,
            sqlite_where=sa.text("state != 'archived'"),
            postgresql_where=sa.text("state != 'archived'"),
        )
        batch_op.create_index(
            "ix_jobs_listed_by_remoteci_id",
            ["remoteci_id", "created_at", "id"],
            unique=False,
            sqlite_where=sa.text("state != 'archived'"),
            postgresql_where=sa.text("state != 'archived'"),
        )
        batch_op.create_index(
            "ix_jobs_listed_by_team_id",
            ["team_id", "created_at", "id"],
            unique=False,
            sqlite_where=sa.text("state != 'archived'"),
            postgresql_where=sa.text("state != 'archived'"),
        )
        batch_op.create_index(
            "ix_jobs_listed_by_topic_id",
            ["topic_id", "created_at", "id"],
            unique=False,
            sqlite_where=sa.text("state != 'archived'"),
            postgresql_where=sa.text("state != 'archived'"),
        )
        batch_op.create_index(
            batch_op.f("ix_jobs_machine_type_created_at"),
            ["machine_type", "created_at"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_jobs_run_id_run_job_id"), ["run_id", "run_job_id"], unique=True
        )
        batch_op.create_index(
            batch_op.f("ix_jobs_run_id_status"), ["run_id", "status"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_jobs_status_updated_at"), ["status", "updated_at"], unique=False
        )

    op.create_table(
        "job_components",
        sa.Column("job_id", sa.Uuid(), nullable=False),
        sa.Column("component_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["component_id"],
            ["components.id"],
            name=op.f("fk_job_components_component_id_components"),
        ),
        sa.ForeignKeyConstraint(
            ["job_id"], ["jobs.id"], name=op.f("fk_job_components_job_id_jobs"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("job_id", "component_id", name=op.f("pk_job_components")),
    )
    with op.batch_alter_table("job_components", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_job_components_component_id"), ["component_id"], unique=False
        )

    op.create_table(
        "job_keyvalues",
        sa.Column("job_id", sa.Uuid(), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("created_at", aerodrome.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["job_id"], ["jobs.id"], name=op.f("fk_job_keyvalues_job_id_jobs"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("job_id", "key", name=op.f("pk_job_keyvalues")),
    )
    op.create_table(
        "jobstates",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", aerodrome.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("job_id", sa.Uuid(), nullable=False),
        sa.Column("team_id", sa.Uuid(), nullable=True),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["job_id"], ["jobs.id"], name=op.f("fk_jobstates_job_id_jobs"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["team_id"], ["teams.id"], name=op.f("fk_jobstates_team_id_teams")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jobstates")),
    )
    with op.batch_alter_table("jobstates", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_jobstates_job_id_created_at"), ["job_id", "created_at"], unique=False
        )

    with op.batch_alter_table("components", schema=None) as batch_op:
        batch_op.add_column(sa.Column("topic_id", sa.Uuid(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_components_topic_id_type_created_at"),
            ["topic_id", "type", "created_at"],
            unique=False,
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_components_topic_id_topics"), "topics", ["topic_id"], ["id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("components", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_components_topic_id_topics"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_components_topic_id_type_created_at"))
        batch_op.drop_column("topic_id")

    with op.batch_alter_table("jobstates", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_jobstates_job_id_created_at"))

    op.drop_table("jobstates")
    op.drop_table("job_keyvalues")
    with op.batch_alter_table("job_components", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_job_components_component_id"))

    op.drop_table("job_components")
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_jobs_status_updated_at"))
        batch_op.drop_index(batch_op.f("ix_jobs_run_id_status"))
        batch_op.drop_index(batch_op.f("ix_jobs_run_id_run_job_id"))
        batch_op.drop_index(batch_op.f("ix_jobs_machine_type_created_at"))
        batch_op.drop_index(
            "ix_jobs_listed_by_topic_id",
            sqlite_where=sa.text("state != 'archived'"),
            postgresql_where=sa.text("state != 'archived'"),
        )
        batch_op.drop_index(
            "ix_jobs_listed_by_team_id",
            sqlite_where=sa.text("state != 'archived'"),
            postgresql_where=sa.text("state != 'archived'"),
        )
        batch_op.drop_index(
            "ix_jobs_listed_by_remoteci_id",
            sqlite_where=sa.text("state != 'archived'"),
            postgresql_where=sa.text("state != 'archived'"),
        )
        batch_op.drop_index(
            "ix_jobs_listed",
            sqlite_where=sa.text("state != 'archived'"),
            postgresql_where=sa.text("state != 'archived'"),
        )
        batch_op.drop_index(batch_op.f("ix_jobs_jobdefinition_id_remoteci_id"))
        batch_op.drop_index(
            "ix_jobs_claimable",
            sqlite_where=sa.text("status = 'new'"),
            postgresql_where=sa.text("status = 'new'"),
        )

    op.drop_table("jobs")
    with op.batch_alter_table("jobdefinitions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_jobdefinitions_topic_id_priority_created_at"))
        batch_op.drop_index(
            "ix_jobdefinitions_listed",
            sqlite_where=sa.text("state != 'archived'"),
            postgresql_where=sa.text("state != 'archived'"),
        )

    op.drop_table("jobdefinitions")
    with op.batch_alter_table("topics", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_topics_listed_by_product_id",
            sqlite_where=sa.text("state != 'archived'"),
            postgresql_where=sa.text("state != 'archived'"),
        )
        batch_op.drop_index(
            "ix_topics_listed",
            sqlite_where=sa.text("state != 'archived'"),
            postgresql_where=sa.text("state != 'archived'"),
        )

    op.drop_table("topics")
    with op.batch_alter_table("product_teams", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_product_teams_team_id"))

    op.drop_table("product_teams")
    with op.batch_alter_table("runs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_runs_user_created_at"))
        batch_op.drop_index(batch_op.f("ix_runs_suite_created_at"))
        batch_op.drop_index(batch_op.f("ix_runs_status_created_at"))
        batch_op.drop_index(batch_op.f("ix_runs_sha1_created_at"))
        batch_op.drop_index(batch_op.f("ix_runs_machine_type_created_at"))
        batch_op.drop_index(
            "ix_runs_listed_by_team_id",
            sqlite_where=sa.text("state != 'archived'"),
            postgresql_where=sa.text("state != 'archived'"),
        )
        batch_op.drop_index(
            "ix_runs_listed",
            sqlite_where=sa.text("state != 'archived'"),
            postgresql_where=sa.text("state != 'archived'"),
        )
        batch_op.drop_index(batch_op.f("ix_runs_branch_created_at"))

    op.drop_table("runs")
    with op.batch_alter_table("queues", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_queues_listed",
            sqlite_where=sa.text("state != 'archived'"),
            postgresql_where=sa.text("state != 'archived'"),
        )

    op.drop_table("queues")
