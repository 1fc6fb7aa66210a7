"""Base classes of every domain's wire shapes."""

from __future__ import annotations

from typing import Any, ClassVar, Self

from pydantic import BaseModel, ConfigDict, model_validator


class Strict(BaseModel):
    """Unknown fields are an error, not silently dropped; no string may hold a NUL character
    (PostgreSQL cannot store one, in text or in JSON, and SQLite would truncate it in places)."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _reject_nul(cls, data: Any) -> Any:
        if _has_nul(data):
            raise ValueError("strings may not contain NUL (\\u0000) characters")
        return data


class Update(Strict):
    """A partial update: omitted fields stay as they are; `null` is accepted only for the
    fields named in `nullable` (the others cannot be empty)."""

    nullable: ClassVar[frozenset[str]] = frozenset()

    @model_validator(mode="after")
    def _reject_nulls(self) -> Self:
        nulls = sorted(
            name
            for name in self.model_fields_set
            if getattr(self, name) is None and name not in self.nullable
        )
        if nulls:
            raise ValueError(f"{', '.join(nulls)} may not be null")
        return self


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(item) for item in value)
    return False
