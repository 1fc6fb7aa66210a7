"""Pools: lockable test nodes, the nodes each job ran on, and the paddles run indexes.

Revision ID: 0006
Revises: 0003
Create Date: 2026-11-25 15:11:37.104271
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import aerodrome.db.types

revision: str = "0006"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "nodes",
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("machine_type", sa.String(length=255), nullable=True),
        sa.Column("os_type", sa.String(length=64), nullable=True),
        sa.Column("os_version", sa.String(length=64), nullable=True),
        sa.Column("arch", sa.String(length=64), nullable=True),
        sa.Column("locked", sa.Boolean(), nullable=False),
        sa.Column("locked_by", sa.String(length=255), nullable=True),
        sa.Column("locked_since", aerodrome.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("up", sa.Boolean(), nullable=False),
        sa.Column("mac_address", sa.String(length=64), nullable=True),
        sa.Column("ssh_pub_key", sa.Text(), nullable=True),
        sa.Column("vm_host", sa.String(length=255), nullable=True),
        sa.Column("is_vm", sa.Boolean(), nullable=False),
        sa.Column("data", aerodrome.db.types.JSONType, nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", aerodrome.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", aerodrome.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("etag", sa.String(length=32), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_nodes")),
        sa.UniqueConstraint("name", name=op.f("uq_nodes_name")),
    )
    with op.batch_alter_table("nodes", schema=None) as batch_op:
        batch_op.create_index(
            "ix_nodes_free",
            ["machine_type", "name"],
            unique=False,
            sqlite_where=sa.text("locked = 0 AND up = 1"),
            postgresql_where=sa.text("NOT locked AND up"),
        )
        batch_op.create_index(
            "ix_nodes_listed",
            ["created_at", "id"],
            unique=False,
            sqlite_where=sa.text("state != 'archived'"),
            postgresql_where=sa.text("state != 'archived'"),
        )
        batch_op.create_index(
            batch_op.f("ix_nodes_locked_by_name"), ["locked_by", "name"], unique=False
        )

    op.create_table(
        "job_nodes",
        sa.Column("job_id", sa.Uuid(), nullable=False),
        sa.Column("node_name", sa.String(length=255), nullable=False),
        sa.ForeignKeyConstraint(
            ["job_id"], ["jobs.id"], name=op.f("fk_job_nodes_job_id_jobs"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("job_id", "node_name", name=op.f("pk_job_nodes")),
    )
    with op.batch_alter_table("job_nodes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_job_nodes_node_name_job_id"), ["node_name", "job_id"], unique=False
        )

    with op.batch_alter_table("runs", schema=None) as batch_op:
        batch_op.create_index(
            "ix_runs_queued",
            ["priority", "created_at"],
            unique=False,
            sqlite_where=sa.text("queued > 0"),
            postgresql_where=sa.text("queued > 0"),
        )
        batch_op.create_index(batch_op.f("ix_runs_scheduled"), ["scheduled"], unique=False)
        batch_op.create_index(batch_op.f("ix_runs_updated_at"), ["updated_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("runs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_runs_updated_at"))
        batch_op.drop_index(batch_op.f("ix_runs_scheduled"))
        batch_op.drop_index(
            "ix_runs_queued",
            sqlite_where=sa.text("queued > 0"),
            postgresql_where=sa.text("queued > 0"),
        )

    with op.batch_alter_table("job_nodes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_job_nodes_node_name_job_id"))

    op.drop_table("job_nodes")
    with op.batch_alter_table("nodes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_nodes_locked_by_name"))
        batch_op.drop_index(
            "ix_nodes_listed",
            sqlite_where=sa.text("state != 'archived'"),
            postgresql_where=sa.text("state != 'archived'"),
        )
        batch_op.drop_index(
            "ix_nodes_free",
            sqlite_where=sa.text("locked = 0 AND up = 1"),
            postgresql_where=sa.text("NOT locked AND up"),
        )

    op.drop_table("nodes")
