"""Wire shapes of the event feeds."""

from __future__ import annotations

from pydantic import Field

from aerodrome.api.listing import MAX_OFFSET
from aerodrome.schemas import Strict


class SequenceUpdate(Strict):
    """A consumer's new position in the `jobs_events` feed."""

    sequence: int = Field(ge=0, le=MAX_OFFSET)
