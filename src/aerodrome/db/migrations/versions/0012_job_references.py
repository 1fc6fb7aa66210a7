"""Indexes on the columns that refer to a job, so that deleting jobs does not scan them all.

Revision ID: 0012
Revises: 0004
Create Date: 2026-12-01 14:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PARTIAL = ("previous_job_id", "update_previous_job_id")


def upgrade() -> None:
    for column in PARTIAL:
        predicate = sa.text(f"{column} IS NOT NULL")
        op.create_index(
            f"ix_jobs_{column}",
            "jobs",
            [column],
            unique=False,
            sqlite_where=predicate,
            postgresql_where=predicate,
        )
    op.create_index(op.f("ix_job_claims_job_id"), "job_claims", ["job_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_job_claims_job_id"), table_name="job_claims")
    for column in PARTIAL:
        op.drop_index(f"ix_jobs_{column}", table_name="jobs")
