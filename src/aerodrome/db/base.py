"""The declarative base and the columns every resource shares."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import Index, MetaData, String, Table, Uuid, text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from aerodrome.db.types import JSONType, UTCDateTime, utcnow

# Stable constraint names keep Alembic migrations identical on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    __table__: ClassVar[Table]  # every model here maps a plain Table
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSONType}


# Keyword arguments of an Index that covers only rows that lists show (not archived).
LISTED: dict[str, Any] = {
    "sqlite_where": text("state != 'archived'"),
    "postgresql_where": text("state != 'archived'"),
}


def listed_index(table: str, *columns: str) -> Index:
    """The index a default list (newest first, archived left out) of `table` walks."""
    name = f"ix_{table}_listed" + ("_by_" + "_".join(columns) if columns else "")
    return Index(name, *columns, "created_at", "id", **LISTED)


def new_etag() -> str:
    """A fresh opaque version tag; every write stores a new one."""
    return uuid.uuid4().hex


class ResourceMixin:
    """id, timestamps, etag and the soft-delete state that every API resource carries."""

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    etag: Mapped[str] = mapped_column(String(32), default=new_etag, onupdate=new_etag)
    state: Mapped[str] = mapped_column(String(16), default="active")
