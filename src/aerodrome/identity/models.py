"""Tables of the identity domain: who may call the API and on behalf of which team."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from aerodrome.db.base import Base, ResourceMixin, listed_index

ADMIN_TEAM = "admin"


class Team(ResourceMixin, Base):
    __tablename__ = "teams"
    __table_args__ = (listed_index("teams"),)

    name: Mapped[str] = mapped_column(String(255), unique=True)
    # Members of such a team may read every team's resources (DCI's read-only users).
    reads_all: Mapped[bool] = mapped_column(Boolean, default=False)
    external: Mapped[bool] = mapped_column(Boolean, default=True)
    country: Mapped[str | None] = mapped_column(String(255))
    # DCI's flag for teams that may see components before their release.
    has_pre_release_access: Mapped[bool] = mapped_column(Boolean, default=False)


class User(ResourceMixin, Base):
    __tablename__ = "users"
    __table_args__ = (listed_index("users"),)

    name: Mapped[str] = mapped_column(String(255), unique=True)
    email: Mapped[str | None] = mapped_column(String(255), unique=True)
    fullname: Mapped[str] = mapped_column(String(255), default="")
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    password_hash: Mapped[str] = mapped_column(Text)


class Membership(Base):
    __tablename__ = "memberships"

    user_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    team_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class RemoteciUser(Base):
    """A user following a remoteci (DCI's remoteci subscribers, told about its jobs)."""

    __tablename__ = "remoteci_users"

    remoteci_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("remotecis.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class Remoteci(ResourceMixin, Base):
    """An agent identity: runs jobs for its team and signs requests with its API secret."""

    __tablename__ = "remotecis"
    __table_args__ = (listed_index("remotecis"), listed_index("remotecis", "team_id"))

    name: Mapped[str] = mapped_column(String(255))
    team_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("teams.id"))
    api_secret: Mapped[str] = mapped_column(String(128))
    public: Mapped[bool] = mapped_column(Boolean, default=False)
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)


class Feeder(ResourceMixin, Base):
    """A publisher of components and topics, authenticated like a remoteci."""

    __tablename__ = "feeders"
    __table_args__ = (listed_index("feeders"), listed_index("feeders", "team_id"))

    name: Mapped[str] = mapped_column(String(255))
    team_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("teams.id"))
    api_secret: Mapped[str] = mapped_column(String(128))
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)


class ApiToken(Base):
    """A bearer token; only its SHA-256 is stored (tokens are random, so a fast hash is safe)."""

    __tablename__ = "api_tokens"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(255))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column()
    expires_at: Mapped[datetime | None] = mapped_column()
    revoked_at: Mapped[datetime | None] = mapped_column()
