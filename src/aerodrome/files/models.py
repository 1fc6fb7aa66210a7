"""The `files` table: metadata of a blob held by the configured storage backend."""

from __future__ import annotations

import uuid

from sqlalchemy import BigInteger, ForeignKey, Index, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from aerodrome.db.base import LISTED, Base, ResourceMixin, listed_index

PUBLIC = "public"
PRIVATE = "private"


class File(ResourceMixin, Base):
    """A job's or a component's file. `state` is `active` or `archived` (soft deleted); the
    blob goes only when the row is purged."""

    __tablename__ = "files"
    __table_args__ = (
        listed_index("files"),
        # Team last: the visibility filter of a list and its count stay inside the index.
        Index("ix_files_listed_by_team", "team_id", "created_at", "id", **LISTED),
        listed_index("files", "job_id"),
        listed_index("files", "component_id"),
        Index(None, "jobstate_id"),
    )

    name: Mapped[str] = mapped_column(String(512))
    mime: Mapped[str] = mapped_column(String(255), default="application/octet-stream")
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    job_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, ForeignKey("jobs.id"))
    jobstate_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, ForeignKey("jobstates.id"))
    component_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, ForeignKey("components.id"))
    # The owning team; NULL only for the files of public components.
    team_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, ForeignKey("teams.id"))
    # `public` only for the files of public components; everything else is its team's.
    visibility: Mapped[str] = mapped_column(String(16), default=PRIVATE)
    # Where the backend keeps the content; never shown.
    storage_key: Mapped[str] = mapped_column(String(255), unique=True)
