"""Tables of the stats domain: projects → tests → data points, and the submitters' keys.

The OAuth client keys live here rather than in `identity`: they authenticate only stats
submissions, carry no team, and their secret must be kept in clear (HMAC-SHA1 signing needs
it), unlike every credential of `identity`, which is stored hashed.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    Uuid,
    text,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine.default import DefaultExecutionContext
from sqlalchemy.orm import Mapped, mapped_column

from aerodrome.db.base import Base
from aerodrome.db.types import JSONType

BigId = BigInteger().with_variant(Integer(), "sqlite")
# `json`, not `jsonb`, on PostgreSQL: it keeps the text the server wrote, so a read splices
# it into the response as it is instead of rendering jsonb again for every point.
JSONText = JSON().with_variant(postgresql.JSON(), "postgresql")


def wire_time(context: DefaultExecutionContext) -> str:
    """`date_entered` as the wire shows it (`isoformat` in UTC), for `date_entered_iso`."""
    # SQLAlchemy leaves `get_current_parameters` unannotated.
    entered: datetime = context.get_current_parameters()["date_entered"]  # type: ignore[no-untyped-call]
    return entered.astimezone(UTC).isoformat()


class StatsProject(Base):
    __tablename__ = "stats_projects"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(String(255), unique=True)
    created_at: Mapped[datetime] = mapped_column()


class StatsTest(Base):
    __tablename__ = "stats_tests"
    __table_args__ = (UniqueConstraint("project_id", "name"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    project_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("stats_projects.id", ondelete="CASCADE")
    )
    name: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column()


class DataPoint(Base):
    """One measurement: a timestamp and an arbitrary JSON object.

    A range read formats nothing: `date_entered_iso` holds the wire form of the time,
    written with it, and `data` the JSON text as the server wrote it.
    """

    __tablename__ = "stats_points"
    # Every read is a time range of one test, in (date_entered, id) order: the index gives
    # the order, and the downsampling of a range without a key reads only the index.
    __table_args__ = (Index(None, "test_id", "date_entered", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    test_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("stats_tests.id", ondelete="CASCADE")
    )
    date_entered: Mapped[datetime] = mapped_column()
    date_entered_iso: Mapped[str] = mapped_column(Text, default=wire_time)
    data: Mapped[dict[str, Any]] = mapped_column(JSONText)


class DayChunk(Base):
    """One UTC day of a test's points, rendered and compressed once: the series of a sealed
    day is read as one value instead of ~1,000 rows.

    A row with no `body` is a day that has points but is not sealed (yet, or again: a point
    added to a sealed day clears its body). The sealer fills the bodies of days older than
    yesterday; a range read takes the sealed days it fully covers from here and the rest from
    `stats_points`.
    """

    __tablename__ = "stats_day_chunks"
    __table_args__ = (
        Index(
            "ix_stats_day_chunks_unsealed",
            "day",
            postgresql_where=text("body IS NULL"),
            sqlite_where=text("body IS NULL"),
        ),
    )

    test_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("stats_tests.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    count: Mapped[int | None] = mapped_column(Integer)
    # The day's points as the series shows them, joined by commas, in UTF-8, compressed as a
    # deflate piece (aerodrome.deflate): a response joins the pieces without recompressing.
    body: Mapped[bytes | None] = mapped_column(LargeBinary)
    # The Adler-32 and the length of the uncompressed body.
    checksum: Mapped[int | None] = mapped_column(BigInteger)
    size: Mapped[int | None] = mapped_column(Integer)
    # Per 5-minute bin, the first and last point and each numeric key's extremes
    # (stats/bins.py): a downsampled read merges these instead of reading the points.
    bins: Mapped[Any | None] = mapped_column(JSONType)


class ClientKey(Base):
    """An OAuth 1.0a client allowed to submit data points."""

    __tablename__ = "stats_client_keys"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    secret: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(255))
    contact: Mapped[str] = mapped_column(String(255), default="")
    created_at: Mapped[datetime] = mapped_column()


class OAuthNonce(Base):
    """A (key, nonce, timestamp) already used: the primary key is what refuses a replay."""

    __tablename__ = "stats_oauth_nonces"

    client_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    nonce: Mapped[str] = mapped_column(String(64), primary_key=True)
    timestamp: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    # Cleaning removes the nonces whose timestamp window has passed.
    used_at: Mapped[datetime] = mapped_column(index=True)
