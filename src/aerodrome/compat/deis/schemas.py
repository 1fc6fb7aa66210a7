"""The Deis Workflow Manager wire shapes (camelCase, as its generated Go client sends them).

Check-ins arrive without credentials, so every field is bounded and unknown fields are refused.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AwareDatetime, Field, field_validator

from aerodrome.schemas import Strict
from aerodrome.times import UtcTime

Name = Annotated[str, Field(min_length=1, max_length=255, pattern=r"^[A-Za-z0-9][\w.\-]*$")]
Train = Annotated[str, Field(max_length=64, pattern=r"^[\w.\-]*$")]
MAX_DATA_BYTES = 8 * 1024


class Component(Strict):
    name: Name
    description: str | None = Field(default=None, max_length=1024)
    type: str | None = Field(default=None, max_length=255)


class Version(Strict):
    train: Train = ""
    version: str = Field(default="", max_length=255)
    released: UtcTime | None = None
    data: dict[str, Any] | None = None

    @field_validator("data")
    @classmethod
    def _small_data(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is not None and len(repr(value)) > MAX_DATA_BYTES:
            raise ValueError(f"version data larger than {MAX_DATA_BYTES} characters")
        return value


class ComponentVersion(Strict):
    component: Component
    version: Version
    updateAvailable: str | None = Field(default=None, max_length=255)


class Cluster(Strict):
    """A check-in: the cluster's id and what it runs. Its own first/last seen are ignored:
    the server derives them from the check-ins it received."""

    id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][\w.\-]*$")
    firstSeen: AwareDatetime | None = None
    lastSeen: AwareDatetime | None = None
    components: list[ComponentVersion] = Field(default_factory=list, max_length=200)


class ComponentVersions(Strict):
    """`POST /versions/latest`: the (component, train) pairs to look up, in order."""

    data: list[ComponentVersion] = Field(max_length=500)
