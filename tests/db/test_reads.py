"""Which tables a statement reads (db/reads.py): what a kept answer depends on."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, func, insert, literal_column, select, text, union_all

import aerodrome.app  # noqa: F401  (every table of the application is defined)
from aerodrome.db.membership import MemberOf
from aerodrome.db.metadata import metadata
from aerodrome.db.reads import tables_read

JOBS = metadata.tables["jobs"]
TEAMS = metadata.tables["teams"]
COMPONENTS = metadata.tables["components"]


def test_tables_behind_joins_aliases_and_subqueries_are_found() -> None:
    other = TEAMS.alias("other")
    count = select(func.count()).where(COMPONENTS.c.id == JOBS.c.id).scalar_subquery()
    statement = select(JOBS.c.id, count).join(other, other.c.id == JOBS.c.team_id)
    assert tables_read(statement) == frozenset({"jobs", "teams", "components"})


def test_a_table_named_only_by_a_column_inside_a_custom_element_is_found() -> None:
    inner = select(JOBS.c.id).subquery()
    statement: Select[Any] = select(literal_column("1")).where(MemberOf(inner.c.id, "keys"))
    assert tables_read(statement) == frozenset({"jobs"})


def test_unions_ctes_and_in_subqueries_are_followed() -> None:
    recent = select(COMPONENTS.c.id).cte("recent")
    both = union_all(select(recent.c.id), select(TEAMS.c.id))
    assert tables_read(both) == frozenset({"components", "teams"})
    within = select(JOBS.c.id).where(JOBS.c.id.in_(select(COMPONENTS.c.id)))
    assert tables_read(within) == frozenset({"jobs", "components"})


def test_statements_that_cannot_be_vouched_for() -> None:
    assert tables_read(text("SELECT * FROM jobs")) is None
    assert tables_read(select(JOBS.c.id).where(text("state = 'active'"))) is None
    assert tables_read(select(JOBS.c.id).where(JOBS.c.created_at < func.now())) is None
    assert tables_read(select(JOBS.c.id).order_by(func.random())) is None
    assert tables_read(insert(TEAMS).values(name="x")) is None
