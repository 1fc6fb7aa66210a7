"""Row counts kept by triggers: `row_counts` and the triggers on `jobs` that append to it.

See `aerodrome/db/row_counts.py`. On PostgreSQL, inserts and deletes are counted once per
statement from its transition table (a bulk insert appends one row per team, not one per
job); changes of `state` or `team_id` are counted per row. SQLite counts every change per row.

Revision ID: 0011
Revises: 0003
Create Date: 2026-12-01 13:05:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

POSTGRESQL_UP = [
    """CREATE FUNCTION row_counts_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO row_counts (table_name, team_id, delta)
        SELECT TG_TABLE_NAME, team_id, count(*) FROM new_rows
        WHERE state <> 'archived' GROUP BY team_id;
        RETURN NULL;
    END $$""",
    """CREATE FUNCTION row_counts_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO row_counts (table_name, team_id, delta)
        SELECT TG_TABLE_NAME, team_id, -count(*) FROM old_rows
        WHERE state <> 'archived' GROUP BY team_id;
        RETURN NULL;
    END $$""",
    """CREATE FUNCTION row_counts_updated() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF OLD.state <> 'archived' THEN
            INSERT INTO row_counts (table_name, team_id, delta)
            VALUES (TG_TABLE_NAME, OLD.team_id, -1);
        END IF;
        IF NEW.state <> 'archived' THEN
            INSERT INTO row_counts (table_name, team_id, delta)
            VALUES (TG_TABLE_NAME, NEW.team_id, 1);
        END IF;
        RETURN NULL;
    END $$""",
    """CREATE FUNCTION row_counts_truncated() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        DELETE FROM row_counts WHERE table_name = TG_TABLE_NAME;
        RETURN NULL;
    END $$""",
    """CREATE TRIGGER jobs_counted_insert AFTER INSERT ON jobs
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT
    EXECUTE FUNCTION row_counts_inserted()""",
    """CREATE TRIGGER jobs_counted_delete AFTER DELETE ON jobs
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT
    EXECUTE FUNCTION row_counts_deleted()""",
    """CREATE TRIGGER jobs_counted_update AFTER UPDATE OF state, team_id ON jobs
    FOR EACH ROW
    WHEN (OLD.state IS DISTINCT FROM NEW.state OR OLD.team_id IS DISTINCT FROM NEW.team_id)
    EXECUTE FUNCTION row_counts_updated()""",
    """CREATE TRIGGER jobs_counted_truncate AFTER TRUNCATE ON jobs
    FOR EACH STATEMENT EXECUTE FUNCTION row_counts_truncated()""",
]
POSTGRESQL_DOWN = [
    *(
        f"DROP TRIGGER jobs_counted_{op} ON jobs"
        for op in ("insert", "delete", "update", "truncate")
    ),
    *(f"DROP FUNCTION row_counts_{op}()" for op in ("inserted", "deleted", "updated", "truncated")),
]
SQLITE_UP = [
    """CREATE TRIGGER jobs_counted_insert AFTER INSERT ON jobs
    WHEN NEW.state <> 'archived' BEGIN
        INSERT INTO row_counts (table_name, team_id, delta) VALUES ('jobs', NEW.team_id, 1);
    END""",
    """CREATE TRIGGER jobs_counted_delete AFTER DELETE ON jobs
    WHEN OLD.state <> 'archived' BEGIN
        INSERT INTO row_counts (table_name, team_id, delta) VALUES ('jobs', OLD.team_id, -1);
    END""",
    """CREATE TRIGGER jobs_counted_update AFTER UPDATE OF state, team_id ON jobs
    WHEN OLD.state IS NOT NEW.state OR OLD.team_id IS NOT NEW.team_id BEGIN
        INSERT INTO row_counts (table_name, team_id, delta)
        SELECT 'jobs', OLD.team_id, -1 WHERE OLD.state <> 'archived';
        INSERT INTO row_counts (table_name, team_id, delta)
        SELECT 'jobs', NEW.team_id, 1 WHERE NEW.state <> 'archived';
    END""",
]
SQLITE_DOWN = [f"DROP TRIGGER jobs_counted_{name}" for name in ("insert", "delete", "update")]
# The jobs that exist when the triggers start counting.
INITIAL = """INSERT INTO row_counts (table_name, team_id, delta)
SELECT 'jobs', team_id, count(*) FROM jobs WHERE state <> 'archived' GROUP BY team_id"""


def upgrade() -> None:
    op.create_table(
        "row_counts",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("table_name", sa.String(length=64), nullable=False),
        sa.Column("team_id", sa.Uuid(), nullable=True),
        sa.Column("delta", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_row_counts")),
    )
    op.create_index(
        "ix_row_counts_table_name_team_id", "row_counts", ["table_name", "team_id"], unique=False
    )
    postgresql = op.get_bind().dialect.name == "postgresql"
    for statement in [*(POSTGRESQL_UP if postgresql else SQLITE_UP), INITIAL]:
        op.execute(statement)


def downgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    for statement in POSTGRESQL_DOWN if postgresql else SQLITE_DOWN:
        op.execute(statement)
    op.drop_index("ix_row_counts_table_name_team_id", table_name="row_counts")
    op.drop_table("row_counts")
