"""What dcictl sends and reads that the identity tables lacked: a team's `country` and
`has_pre_release_access`, and the users attached to a remoteci (`remoteci_users`).

Revision ID: 0015
Revises: 0001
Create Date: 2026-12-01 23:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A constant default: PostgreSQL adds the columns without rewriting the table.
    with op.batch_alter_table("teams", schema=None) as batch_op:
        batch_op.add_column(sa.Column("country", sa.String(length=255), nullable=True))
        batch_op.add_column(
            sa.Column(
                "has_pre_release_access",
                sa.Boolean(),
                server_default=sa.false(),
                nullable=False,
            )
        )
    op.create_table(
        "remoteci_users",
        sa.Column("remoteci_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["remoteci_id"],
            ["remotecis.id"],
            name=op.f("fk_remoteci_users_remoteci_id_remotecis"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_remoteci_users_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("remoteci_id", "user_id", name=op.f("pk_remoteci_users")),
    )
    with op.batch_alter_table("remoteci_users", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_remoteci_users_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("remoteci_users", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_remoteci_users_user_id"))
    op.drop_table("remoteci_users")
    with op.batch_alter_table("teams", schema=None) as batch_op:
        batch_op.drop_column("has_pre_release_access")
        batch_op.drop_column("country")
