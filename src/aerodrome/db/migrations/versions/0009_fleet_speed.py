"""Fleet: the per-cluster check-in index also holds the check-in id, so that a cluster's
history and its latest check-in are read from the index alone, however many check-ins it has.

Revision ID: 0009
Revises: 0007
Create Date: 2026-12-01 14:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0009"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Created before the old one is dropped: the aggregates always have an index to walk.
    op.create_index(
        op.f("ix_cluster_checkins_cluster_id_checked_in_at_id"),
        "cluster_checkins",
        ["cluster_id", "checked_in_at", "id"],
        unique=False,
    )
    op.drop_index(op.f("ix_cluster_checkins_cluster_id_checked_in_at"), "cluster_checkins")


def downgrade() -> None:
    op.create_index(
        op.f("ix_cluster_checkins_cluster_id_checked_in_at"),
        "cluster_checkins",
        ["cluster_id", "checked_in_at"],
        unique=False,
    )
    op.drop_index(op.f("ix_cluster_checkins_cluster_id_checked_in_at_id"), "cluster_checkins")
