"""Tables of the fleet: a cluster is only its id; everything else is derived from its check-ins."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from aerodrome.db.base import Base
from aerodrome.db.types import JSONType

# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL gets a 64-bit identity.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class Cluster(Base):
    """A Deis cluster, known by the id it chose itself when it first checked in."""

    __tablename__ = "clusters"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)


class ClusterCheckin(Base):
    """One check-in, never changed: first/last seen and the count are aggregates of these."""

    __tablename__ = "cluster_checkins"
    __table_args__ = (
        # Per-cluster aggregates (first/last seen, count) and the latest check-in (the highest
        # id), all from the index: no heap fetch per check-in of a long-lived cluster.
        Index(None, "cluster_id", "checked_in_at", "id"),
        # Check-ins in a time window, and the per-address rate limit.
        Index(None, "checked_in_at"),
        Index(None, "source_address", "checked_in_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    cluster_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("clusters.id", ondelete="CASCADE")
    )
    checked_in_at: Mapped[datetime] = mapped_column()
    source_address: Mapped[str] = mapped_column(String(64))
    # The installed components, as the cluster reported them (Deis ComponentVersion objects).
    components: Mapped[list[dict[str, Any]]] = mapped_column(JSONType)
