"""Fleet and stats: clusters and their append-only check-ins; stats projects, tests, data
points, OAuth client keys and used nonces; the unique (name, train, version) of releases.

Revision ID: 0007
Revises: 0003
Create Date: 2026-11-25 15:10:32.937234
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import aerodrome.db.types

revision: str = "0007"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "clusters",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clusters")),
    )
    op.create_table(
        "stats_client_keys",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("secret", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("contact", sa.String(length=255), nullable=False),
        sa.Column("created_at", aerodrome.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stats_client_keys")),
        sa.UniqueConstraint("key", name=op.f("uq_stats_client_keys_key")),
    )
    op.create_table(
        "stats_oauth_nonces",
        sa.Column("client_key", sa.String(length=64), nullable=False),
        sa.Column("nonce", sa.String(length=64), nullable=False),
        sa.Column("timestamp", sa.BigInteger(), nullable=False),
        sa.Column("used_at", aerodrome.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint(
            "client_key", "nonce", "timestamp", name=op.f("pk_stats_oauth_nonces")
        ),
    )
    with op.batch_alter_table("stats_oauth_nonces", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_stats_oauth_nonces_used_at"), ["used_at"], unique=False
        )

    op.create_table(
        "stats_projects",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("created_at", aerodrome.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stats_projects")),
        sa.UniqueConstraint("name", name=op.f("uq_stats_projects_name")),
    )
    op.create_table(
        "cluster_checkins",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("cluster_id", sa.String(length=64), nullable=False),
        sa.Column("checked_in_at", aerodrome.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("source_address", sa.String(length=64), nullable=False),
        sa.Column("components", aerodrome.db.types.JSONType, nullable=False),
        sa.ForeignKeyConstraint(
            ["cluster_id"],
            ["clusters.id"],
            name=op.f("fk_cluster_checkins_cluster_id_clusters"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cluster_checkins")),
    )
    with op.batch_alter_table("cluster_checkins", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_cluster_checkins_checked_in_at"), ["checked_in_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_cluster_checkins_cluster_id_checked_in_at"),
            ["cluster_id", "checked_in_at"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_cluster_checkins_source_address_checked_in_at"),
            ["source_address", "checked_in_at"],
            unique=False,
        )

    op.create_table(
        "stats_tests",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("project_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("created_at", aerodrome.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["stats_projects.id"],
            name=op.f("fk_stats_tests_project_id_stats_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stats_tests")),
        sa.UniqueConstraint("project_id", "name", name=op.f("uq_stats_tests_project_id_name")),
    )
    op.create_table(
        "stats_points",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("test_id", sa.Uuid(), nullable=False),
        sa.Column("date_entered", aerodrome.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("data", aerodrome.db.types.JSONType, nullable=False),
        sa.ForeignKeyConstraint(
            ["test_id"],
            ["stats_tests.id"],
            name=op.f("fk_stats_points_test_id_stats_tests"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stats_points")),
    )
    with op.batch_alter_table("stats_points", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_stats_points_test_id_date_entered_id"),
            ["test_id", "date_entered", "id"],
            unique=False,
        )

    with op.batch_alter_table("components", schema=None) as batch_op:
        batch_op.create_index(
            "uq_components_release",
            ["name", "train", "version"],
            unique=True,
            sqlite_where=sa.text("type = 'release'"),
            postgresql_where=sa.text("type = 'release'"),
        )


def downgrade() -> None:
    with op.batch_alter_table("components", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_components_release",
            sqlite_where=sa.text("type = 'release'"),
            postgresql_where=sa.text("type = 'release'"),
        )

    with op.batch_alter_table("stats_points", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_stats_points_test_id_date_entered_id"))

    op.drop_table("stats_points")
    op.drop_table("stats_tests")
    with op.batch_alter_table("cluster_checkins", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cluster_checkins_source_address_checked_in_at"))
        batch_op.drop_index(batch_op.f("ix_cluster_checkins_cluster_id_checked_in_at"))
        batch_op.drop_index(batch_op.f("ix_cluster_checkins_checked_in_at"))

    op.drop_table("cluster_checkins")
    op.drop_table("stats_projects")
    with op.batch_alter_table("stats_oauth_nonces", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_stats_oauth_nonces_used_at"))

    op.drop_table("stats_oauth_nonces")
    op.drop_table("stats_client_keys")
    op.drop_table("clusters")
