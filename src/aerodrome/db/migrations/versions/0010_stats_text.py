"""Stats points keep their wire form: `date_entered_iso` (the time as `isoformat` writes it,
in UTC) and, on PostgreSQL, `data` as `json` (the text as written) instead of `jsonb`.

Existing rows get the time the read rendered until now (microseconds only when not zero, then
`+00:00`), and their data the text jsonb rendered: the series they answer stay byte for byte
the same.

Revision ID: 0010
Revises: 0007
Create Date: 2026-12-01 14:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

POSTGRESQL_FILL = """
UPDATE stats_points SET date_entered_iso = to_char(
    timezone('UTC', date_entered),
    CASE WHEN date_trunc('second', timezone('UTC', date_entered)) = timezone('UTC', date_entered)
        THEN 'YYYY-MM-DD"T"HH24:MI:SS' ELSE 'YYYY-MM-DD"T"HH24:MI:SS.US' END
) || '+00:00'
"""
# SQLite holds "YYYY-MM-DD HH:MM:SS.ffffff" in UTC, as SQLAlchemy writes it.
SQLITE_FILL = """
UPDATE stats_points SET date_entered_iso = substr(date_entered, 1, 10) || 'T' || CASE
    WHEN substr(date_entered, 20) IN ('', '.000000') THEN substr(date_entered, 12, 8)
    ELSE substr(date_entered, 12) END || '+00:00'
"""


def upgrade() -> None:
    op.add_column("stats_points", sa.Column("date_entered_iso", sa.Text(), nullable=True))
    if op.get_bind().dialect.name == "postgresql":
        op.execute(POSTGRESQL_FILL)
        # One ALTER TABLE: one rewrite converts the data and checks the new column.
        op.execute(
            "ALTER TABLE stats_points ALTER COLUMN data TYPE json USING data::json,"
            " ALTER COLUMN date_entered_iso SET NOT NULL"
        )
        return
    op.execute(SQLITE_FILL)
    with op.batch_alter_table("stats_points", schema=None) as batch_op:
        batch_op.alter_column("date_entered_iso", existing_type=sa.Text(), nullable=False)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE stats_points ALTER COLUMN data TYPE jsonb USING data::jsonb")
    with op.batch_alter_table("stats_points", schema=None) as batch_op:
        batch_op.drop_column("date_entered_iso")
