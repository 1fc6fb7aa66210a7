"""Tables of the pools domain: lockable test nodes, and which jobs ran on which node.

A node is locked by setting `locked`/`locked_by` with one conditional UPDATE, so two callers can
never both win it; other pools (build archives) reuse the same columns and the same service.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, String, Text, Uuid, text
from sqlalchemy.orm import Mapped, mapped_column

from aerodrome.db.base import Base, ResourceMixin, listed_index


class Node(ResourceMixin, Base):
    """A test machine (or VM) that jobs lock for their run: a paddles node."""

    __tablename__ = "nodes"
    __table_args__ = (
        listed_index("nodes"),
        # Free-node search of lock_many: the unlocked, up nodes of a machine type.
        Index(
            "ix_nodes_free",
            "machine_type",
            "name",
            sqlite_where=text("locked = 0 AND up = 1"),
            postgresql_where=text("NOT locked AND up"),
        ),
        Index(None, "locked_by", "name"),
    )

    name: Mapped[str] = mapped_column(String(255), unique=True)
    machine_type: Mapped[str | None] = mapped_column(String(255))
    os_type: Mapped[str | None] = mapped_column(String(64))
    os_version: Mapped[str | None] = mapped_column(String(64))
    arch: Mapped[str | None] = mapped_column(String(64))
    locked: Mapped[bool] = mapped_column(Boolean, default=False)
    locked_by: Mapped[str | None] = mapped_column(String(255))
    locked_since: Mapped[datetime | None] = mapped_column()
    description: Mapped[str | None] = mapped_column(Text)
    up: Mapped[bool] = mapped_column(Boolean, default=True)
    mac_address: Mapped[str | None] = mapped_column(String(64))
    ssh_pub_key: Mapped[str | None] = mapped_column(Text)
    vm_host: Mapped[str | None] = mapped_column(String(255))
    is_vm: Mapped[bool] = mapped_column(Boolean, default=False)
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)


class JobNode(Base):
    """A node a job ran on (the job's `targets`), so a node's jobs are one indexed join."""

    __tablename__ = "job_nodes"
    __table_args__ = (Index(None, "node_name", "job_id"),)

    job_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("jobs.id", ondelete="CASCADE"), primary_key=True
    )
    node_name: Mapped[str] = mapped_column(String(255), primary_key=True)
