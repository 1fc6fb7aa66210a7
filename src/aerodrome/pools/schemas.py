"""Wire shapes of the native `/api/v1/nodes` (the lock fields change only through locks)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from aerodrome.schemas import Strict, Update


class NodeFields(Strict):
    machine_type: str | None = Field(default=None, max_length=255)
    os_type: str | None = Field(default=None, max_length=64)
    os_version: str | None = Field(default=None, max_length=64)
    arch: str | None = Field(default=None, max_length=64)
    description: str | None = Field(default=None, max_length=65536)
    up: bool | None = None
    mac_address: str | None = Field(default=None, max_length=64)
    ssh_pub_key: str | None = Field(default=None, max_length=65536)
    vm_host: str | None = Field(default=None, max_length=255)
    is_vm: bool | None = None
    data: dict[str, Any] | None = None


class NodeCreate(NodeFields):
    name: str = Field(min_length=1, max_length=255, pattern=r"^[^/]+$")


class NodeUpdate(NodeFields, Update):
    nullable = frozenset(
        {"machine_type", "os_type", "os_version", "arch", "description", "mac_address"}
        | {"ssh_pub_key", "vm_host"}
    )


class LockRequest(Strict):
    locked_by: str = Field(min_length=1, max_length=255)
    description: str | None = Field(default=None, max_length=65536)


class LockManyRequest(LockRequest):
    count: int = Field(ge=1, le=1000)
    machine_type: str = Field(min_length=1, max_length=2048, description="one or several, a|b")
    os_type: str | None = Field(default=None, max_length=64)
    os_version: str | None = Field(default=None, max_length=64)
    arch: str | None = Field(default=None, max_length=64)


class UnlockManyRequest(Strict):
    locked_by: str = Field(min_length=1, max_length=255)
    names: list[str] = Field(min_length=1, max_length=1000)
