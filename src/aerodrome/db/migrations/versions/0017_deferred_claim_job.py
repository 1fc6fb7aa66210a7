"""A job claim names its job from the start: the claim's foreign key to `jobs` is checked at
commit (DEFERRABLE INITIALLY DEFERRED), so that the scheduler inserts the claim, then the job
it claimed, instead of inserting the claim and updating it once the job exists.

Revision ID: 0017
Revises: 0012
Create Date: 2026-12-02 08:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0017"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CONSTRAINT = "fk_job_claims_job_id_jobs"


def upgrade() -> None:
    _set_deferred(True)


def downgrade() -> None:
    _set_deferred(False)


def _set_deferred(deferred: bool) -> None:
    if op.get_bind().dialect.name == "postgresql":
        # Changes the constraint in place: no validation scan of the claims.
        timing = "DEFERRABLE INITIALLY DEFERRED" if deferred else "NOT DEFERRABLE"
        op.execute(f"ALTER TABLE job_claims ALTER CONSTRAINT {CONSTRAINT} {timing}")
        return
    # SQLite cannot alter a constraint: the table is rebuilt with the new one.
    with op.batch_alter_table("job_claims", recreate="always") as batch_op:
        batch_op.drop_constraint(CONSTRAINT, type_="foreignkey")
        batch_op.create_foreign_key(
            CONSTRAINT,
            "jobs",
            ["job_id"],
            ["id"],
            ondelete="SET NULL",
            deferrable=True if deferred else None,
            initially="DEFERRED" if deferred else None,
        )
