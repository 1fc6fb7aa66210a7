"""Times received from clients: aware, converted to UTC, and within a range the database and
date arithmetic can hold (so that an extreme value is a 400, never a 500)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime


def in_utc(value: datetime) -> datetime:
    """The time in UTC, refused (not a 500) when UTC or a day either side is out of range."""
    try:
        converted = value.astimezone(UTC)
    except OverflowError:
        raise ValueError("time out of range") from None
    if not 2 <= converted.year <= 9998:
        raise ValueError("time out of range (years 2 to 9998)")
    return converted


# A time that is stored or compared: aware, in UTC, within range.
UtcTime = Annotated[AwareDatetime, AfterValidator(in_utc)]
