"""PostgreSQL: every committed change to the identity tables notifies `aerodrome_identity`,
so that server processes may trust the identities they read until one changes
(aerodrome/identity/changes.py). SQLite has no notifications: nothing to add there.
Replaced by 0018, which notifies changes to every table.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02 08:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen here rather than imported: a migration must not change when the code does.
TABLES = ("users", "teams", "memberships", "remotecis", "feeders")


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    # One notification per statement; PostgreSQL folds a transaction's identical ones into one
    # and delivers it at commit (never for a rolled-back change).
    op.execute(
        """
        CREATE FUNCTION aerodrome_identity_changed() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('aerodrome_identity', '');
            RETURN NULL;
        END $$
        """
    )
    for table in TABLES:
        op.execute(
            f"CREATE TRIGGER {table}_identity_changed "
            f"AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION aerodrome_identity_changed()"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in TABLES:
        op.execute(f"DROP TRIGGER {table}_identity_changed ON {table}")
    op.execute("DROP FUNCTION aerodrome_identity_changed()")
