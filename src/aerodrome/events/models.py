"""Tables of the event feeds."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Index, Integer, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from aerodrome.db.base import Base
from aerodrome.db.types import utcnow


class JobEvent(Base):
    """One change of a job's status, numbered in commit-independent insertion order.

    Consumers page through the feed by `id` (DCI calls it the sequence); rows hold no foreign
    key to the job so that a purged job's history can still be read and trimmed.
    """

    __tablename__ = "jobs_events"
    __table_args__ = (Index(None, "team_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    job_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    team_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    topic_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    status: Mapped[str | None] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(16))


class EventCursor(Base):
    """A consumer's position in a feed (DCI's `/jobs_events/sequence`), etag-protected."""

    __tablename__ = "event_cursors"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    etag: Mapped[str] = mapped_column(String(32))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
