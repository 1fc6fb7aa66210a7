"""paddles: the partial index the dead-job expiry walks (paddles jobs only, not DCI jobs).

Revision ID: 0008_paddles_speed
Revises: 0006
Create Date: 2026-12-01 13:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_paddles_speed"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.create_index(
            "ix_jobs_paddles_silent",
            ["status", "updated_at"],
            unique=False,
            sqlite_where=sa.text("run_job_id IS NOT NULL"),
            postgresql_where=sa.text("run_job_id IS NOT NULL"),
        )


def downgrade() -> None:
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_jobs_paddles_silent",
            sqlite_where=sa.text("run_job_id IS NOT NULL"),
            postgresql_where=sa.text("run_job_id IS NOT NULL"),
        )
