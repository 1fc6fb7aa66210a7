"""Sealed days of stats points: `stats_day_chunks`, one row per (test, UTC day) with points.

Every existing day gets an unsealed row (no body); the server's sealer renders the bodies in
the background, so the upgrade itself only reads `stats_points` once.

Revision ID: 0013
Revises: 0010
Create Date: 2026-12-01 16:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import aerodrome.db.types

revision: str = "0013"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UNSEALED = sa.text("body IS NULL")
# The bodies are deflate data already: PostgreSQL would try to compress them again, in vain.
POSTGRESQL_STORAGE = "ALTER TABLE stats_day_chunks ALTER COLUMN body SET STORAGE EXTERNAL"
POSTGRESQL_DAYS = """
INSERT INTO stats_day_chunks (test_id, day)
SELECT DISTINCT test_id, (date_entered AT TIME ZONE 'UTC')::date FROM stats_points
"""
# SQLite holds "YYYY-MM-DD HH:MM:SS.ffffff" in UTC; a Date is "YYYY-MM-DD".
SQLITE_DAYS = """
INSERT INTO stats_day_chunks (test_id, day)
SELECT DISTINCT test_id, substr(date_entered, 1, 10) FROM stats_points
"""


def upgrade() -> None:
    op.create_table(
        "stats_day_chunks",
        sa.Column("test_id", sa.Uuid(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=True),
        sa.Column("body", sa.LargeBinary(), nullable=True),
        sa.Column("checksum", sa.BigInteger(), nullable=True),
        sa.Column("size", sa.Integer(), nullable=True),
        sa.Column("bins", aerodrome.db.types.JSONType, nullable=True),
        sa.ForeignKeyConstraint(
            ["test_id"],
            ["stats_tests.id"],
            name=op.f("fk_stats_day_chunks_test_id_stats_tests"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("test_id", "day", name=op.f("pk_stats_day_chunks")),
    )
    op.create_index(
        "ix_stats_day_chunks_unsealed",
        "stats_day_chunks",
        ["day"],
        unique=False,
        postgresql_where=UNSEALED,
        sqlite_where=UNSEALED,
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(POSTGRESQL_STORAGE)
        op.execute(POSTGRESQL_DAYS)
    else:
        op.execute(SQLITE_DAYS)


def downgrade() -> None:
    op.drop_index("ix_stats_day_chunks_unsealed", table_name="stats_day_chunks")
    op.drop_table("stats_day_chunks")
