"""PostgreSQL: every committed change to any table notifies `aerodrome_changes` with the
table's name, so that server processes may trust what they read from a table until it changes
(aerodrome/db/changes.py): identities, and kept responses. It takes over from 0016, which
notified only changes to the identity tables. SQLite has no notifications: nothing to do there.

It merges every branch, so that the tables of all of them exist when it runs. A table created
by a later migration needs the same trigger (`tests/db/test_changes.py` checks every table).

Revision ID: 0018
Revises: 0005, 0009, 0011, 0013, 0014, 0016, 0017
Create Date: 2026-12-02 09:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | Sequence[str] | None = ("0005", "0009", "0011", "0013", "0014", "0016", "0017")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen here rather than imported: a migration must not change when the code does.
IDENTITY_TABLES = ("users", "teams", "memberships", "remotecis", "feeders")


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in IDENTITY_TABLES:
        op.execute(f"DROP TRIGGER {table}_identity_changed ON {table}")
    op.execute("DROP FUNCTION aerodrome_identity_changed()")
    # One notification per statement; PostgreSQL folds a transaction's identical ones into one
    # and delivers it at commit (never for a rolled-back change).
    op.execute(
        """
        CREATE FUNCTION aerodrome_announce_change() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('aerodrome_changes', TG_TABLE_NAME);
            RETURN NULL;
        END $$
        """
    )
    for table in _tables():
        op.execute(
            f"CREATE TRIGGER aerodrome_announce_change "
            f"AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION aerodrome_announce_change()"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in _tables():
        op.execute(f"DROP TRIGGER aerodrome_announce_change ON {table}")
    op.execute("DROP FUNCTION aerodrome_announce_change()")
    op.execute(
        """
        CREATE FUNCTION aerodrome_identity_changed() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('aerodrome_identity', '');
            RETURN NULL;
        END $$
        """
    )
    for table in IDENTITY_TABLES:
        op.execute(
            f"CREATE TRIGGER {table}_identity_changed "
            f"AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION aerodrome_identity_changed()"
        )


def _tables() -> list[str]:
    names = sa.inspect(op.get_bind()).get_table_names()
    return sorted(name for name in names if name != "alembic_version")
