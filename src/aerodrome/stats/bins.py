"""Downsampling from sealed days without reading their points.

When a day is sealed, its points are also summarised per BIN_SECONDS bin: the first and the
last point of each bin and, for every numeric top-level key, the points holding the smallest
and the largest value (the lowest id among equals, as the SQL downsampling picks). A
downsampled read over many days merges the bins of its whole days into its buckets, with the
points of the partial days at its ends, and fetches only the points it keeps.

A bin counts in the bucket its start falls in: bucket edges snap to bins, a shift of less than
BIN_SECONDS that a graph whose buckets hold MIN_BINS_PER_BUCKET bins or more does not show.
Where buckets are narrower, the read goes to the points.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

BIN_SECONDS = 300
MIN_BINS_PER_BUCKET = 4
# A day whose points have more numeric keys than this is not summarised (its reads go to
# the points), so that a summary stays small.
MAX_KEYS = 64
MICROSECONDS = 1_000_000
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _us(when: datetime) -> int:
    """Microseconds since the epoch, exactly (no float)."""
    delta = when - EPOCH
    return (delta.days * 86_400 + delta.seconds) * MICROSECONDS + delta.microseconds


def number(value: Any) -> float | None:
    """A JSON number as a float; None for anything else (booleans are not numbers)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        return float(value)
    except OverflowError:
        return None


def summarise(
    points: Iterable[tuple[int, datetime, Mapping[str, Any]]], day_start: datetime
) -> Any:
    """The bins of a day's points, given as (id, time, data) in (time, id) order: JSON
    `{"ends": [[bin, first_us, first_id, last_us, last_id]], "keys": {key: [[bin, low,
    low_id, high, high_id]]}}`, times in microseconds from the day's start; None when the
    points have more than MAX_KEYS numeric keys."""
    origin = _us(day_start)
    ends: dict[int, list[int]] = {}
    keys: dict[str, dict[int, list[Any]]] = {}
    for point_id, when, data in points:
        offset = _us(when) - origin
        index = offset // (BIN_SECONDS * MICROSECONDS)
        end = ends.get(index)
        if end is None:
            ends[index] = [offset, point_id, offset, point_id]
        elif offset > end[2]:  # (time, id) order: the first point at the latest time
            end[2], end[3] = offset, point_id
        for key, raw in data.items():
            value = number(raw)
            if value is None:
                continue
            extremes = keys.setdefault(key, {}).get(index)
            if extremes is None:
                keys[key][index] = [value, point_id, value, point_id]
                continue
            if (value, point_id) < (extremes[0], extremes[1]):
                extremes[0], extremes[1] = value, point_id
            if (-value, point_id) < (-extremes[2], extremes[3]):
                extremes[2], extremes[3] = value, point_id
    if len(keys) > MAX_KEYS:
        return None
    return {
        "ends": [[index, *end] for index, end in ends.items()],
        "keys": {key: [[i, *e] for i, e in bins.items()] for key, bins in keys.items()},
    }


class Buckets:
    """`count` equal buckets over [start, end) and, in each, the points to keep."""

    def __init__(self, start: datetime, end: datetime, count: int) -> None:
        self.origin = start.timestamp()
        self.scale = count / (end - start).total_seconds()
        # bucket → [(rank, id) of the first kept point, (rank, id) of the second]
        self.kept: dict[int, list[tuple[float, int]]] = {}

    def _bucket(self, seconds: float) -> int:
        return math.floor((seconds - self.origin) * self.scale)

    def offer(self, seconds: float, low: tuple[float, int], high: tuple[float, int]) -> None:
        """Candidates at `seconds`: the least `low` and the least `high` of a bucket win."""
        kept = self.kept.setdefault(self._bucket(seconds), [low, high])
        kept[0] = min(kept[0], low)
        kept[1] = min(kept[1], high)

    def ids(self) -> list[int]:
        return sorted({point_id for kept in self.kept.values() for _, point_id in kept})


def offer_bins(buckets: Buckets, day_start: datetime, bins: Any, key: str | None) -> None:
    """A sealed day's bins (its `ends`, or its bins of `key`) as candidates. Inlined
    `Buckets.offer`: a 30-day read merges some 9,000 bins."""
    shift = day_start.timestamp() - buckets.origin
    origin_us = _us(day_start) if key is None else 0
    kept = buckets.kept
    for index, low, low_id, high, high_id in bins or ():
        bucket = math.floor((shift + index * BIN_SECONDS) * buckets.scale)
        if key is None:  # first and last: the earliest time, and the latest one (negated)
            first, last = (origin_us + low, low_id), (-(origin_us + high), high_id)
        else:
            first, last = (low, low_id), (-high, high_id)
        chosen = kept.get(bucket)
        if chosen is None:
            kept[bucket] = [first, last]
            continue
        if first < chosen[0]:
            chosen[0] = first
        if last < chosen[1]:
            chosen[1] = last


def offer_point(
    buckets: Buckets, point_id: int, when: datetime, field: float | None, key: str | None
) -> None:
    """A point read from the table as a candidate; `field` is its value of `key` as a float,
    None when it is not a number."""
    seconds = when.timestamp()
    if key is None:
        at = _us(when)
        buckets.offer(seconds, (at, point_id), (-at, point_id))
        return
    if field is not None:
        buckets.offer(seconds, (field, point_id), (-field, point_id))
