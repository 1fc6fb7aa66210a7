"""Test results: one summary per parsed file and one row per test case."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from aerodrome.db.base import Base, listed_index
from aerodrome.db.types import utcnow


class TestResult(Base):
    """The summary of one results file of a job (what `GET /jobs/<id>/results` lists)."""

    __tablename__ = "tests_results"
    __test__ = False  # not a pytest test class, whatever its name
    __table_args__ = (listed_index("tests_results", "job_id"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Always `active`: results go with their file; the column lets the shared list machinery
    # (which leaves archived rows out) serve them like every other resource.
    state: Mapped[str] = mapped_column(String(16), default="active")
    name: Mapped[str] = mapped_column(String(512))
    file_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("files.id", ondelete="CASCADE"), unique=True
    )
    job_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("jobs.id", ondelete="CASCADE")
    )
    team_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, ForeignKey("teams.id"))
    total: Mapped[int] = mapped_column(Integer, default=0)
    success: Mapped[int] = mapped_column(Integer, default=0)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    errors: Mapped[int] = mapped_column(Integer, default=0)
    skips: Mapped[int] = mapped_column(Integer, default=0)
    time: Mapped[float] = mapped_column(Float, default=0.0)  # seconds
    regressions: Mapped[int] = mapped_column(Integer, default=0)
    successfixes: Mapped[int] = mapped_column(Integer, default=0)


class TestCase(Base):
    """One test case of a results file, in file order."""

    __tablename__ = "testcases"
    __test__ = False
    # Regressions are found by matching cases of the previous job's result by `case_key`, a
    # digest of (classname, name): long names would not fit in a PostgreSQL index entry.
    __table_args__ = (Index(None, "result_id", "case_key"),)

    result_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("tests_results.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    suite: Mapped[str] = mapped_column(Text, default="")
    classname: Mapped[str] = mapped_column(Text, default="")
    name: Mapped[str] = mapped_column(Text)
    case_key: Mapped[str] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(16))
    time: Mapped[float] = mapped_column(Float, default=0.0)
    message: Mapped[str | None] = mapped_column(Text)
    type: Mapped[str | None] = mapped_column(Text)
    value: Mapped[str | None] = mapped_column(Text)
    regression: Mapped[bool] = mapped_column(Boolean, default=False)
    successfix: Mapped[bool] = mapped_column(Boolean, default=False)
