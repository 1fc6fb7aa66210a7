"""Wire shapes of the stats domain: the date range and sampling of a series read."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from aerodrome.db.types import utcnow
from aerodrome.errors import InvalidInput
from aerodrome.times import in_utc

DEFAULT_RANGE = timedelta(days=30)
MAX_POINTS_LIMIT = 100_000


def parse_time(name: str, value: str) -> datetime:
    """A date (midnight UTC) or a date and time with a zone; anything else is a 400."""
    try:
        if len(value) == 10:
            return datetime.combine(date.fromisoformat(value), datetime.min.time(), UTC)
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"{name}: {value!r} is not a date or an ISO 8601 time") from None
    if parsed.tzinfo is None:
        raise InvalidInput(f"{name}: {value!r} has no time zone (add Z or +00:00)")
    try:
        return in_utc(parsed)
    except ValueError as exc:
        raise InvalidInput(f"{name}: {value!r}: {exc}") from None


@dataclass(frozen=True)
class SeriesQuery:
    """`start_date`, `end_date` (default: the 30 days up to now), `max_points`, `key`."""

    start: datetime
    end: datetime
    max_points: int | None
    key: str | None

    @classmethod
    def from_params(cls, params: Any) -> SeriesQuery:
        end = parse_time("end_date", params["end_date"]) if "end_date" in params else utcnow()
        start = (
            parse_time("start_date", params["start_date"])
            if "start_date" in params
            else end - DEFAULT_RANGE
        )
        return cls(start, end, _max_points(params.get("max_points")), params.get("key"))


def _max_points(value: str | None) -> int | None:
    if value is None:
        return None
    if not value.isdigit() or not 2 <= int(value) <= MAX_POINTS_LIMIT:
        raise InvalidInput(f"max_points must be an integer from 2 to {MAX_POINTS_LIMIT}")
    return int(value)
