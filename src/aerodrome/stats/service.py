"""Stats rules: storing data points, reading a time range, and downsampling it.

A range read takes each UTC day it fully covers from `stats_day_chunks` when that day is
sealed (its points rendered and compressed once) and walks the `(test_id, date_entered)`
index for the rest: the partial days at its ends and the days not sealed yet. Days older than
yesterday are sealed in the background (`seal_next_day`); a point added to a sealed day
unseals it in the same transaction (docs/decisions/0010-sealed-stats-days.md).

Downsampling splits the range into `max_points / 2` equal time buckets and keeps, in each,
the points with the smallest and the largest value of `key` (or the first and the last point
when no key is given), so a graph keeps its peaks while the browser never receives more than
`max_points` points. Over sealed days it merges their per-bin summaries (stats/bins.py);
otherwise the database finds the extremes.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Date,
    Executable,
    Float,
    Integer,
    LargeBinary,
    Select,
    Text,
    and_,
    any_,
    bindparam,
    case,
    cast,
    func,
    insert,
    literal,
    literal_column,
    null,
    or_,
    select,
    union_all,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from aerodrome import deflate, jsoncodec
from aerodrome.db.resources import Row
from aerodrome.db.types import utcnow
from aerodrome.deflate import Piece
from aerodrome.errors import InvalidInput, NotFound
from aerodrome.stats import bins
from aerodrome.stats.models import DataPoint, DayChunk, StatsProject, StatsTest
from aerodrome.stats.schemas import SeriesQuery

projects = StatsProject.__table__
tests = StatsTest.__table__
points = DataPoint.__table__
chunks = DayChunk.__table__
ONE_DAY = timedelta(days=1)
# Sealing waits until a day is older than yesterday: late submissions for yesterday are
# common, and each one would unseal the day again.
SEAL_AFTER_DAYS = 2
NAME_PATTERN = r"^[A-Za-z0-9][\w.+\-]*$"
KEY_PATTERN = re.compile(r"^[\w.\-]{1,64}$")
MAX_POINT_BYTES = 64 * 1024


def check_name(kind: str, name: str) -> str:
    if len(name) > 255 or not re.match(NAME_PATTERN, name):
        raise InvalidInput(
            f"invalid {kind} name {name!r}: letters, digits and . _ + - only",
            payload={kind: name},
        )
    return name


async def _dialect(session: AsyncSession) -> str:
    return (await session.connection()).dialect.name


async def _ensure(
    session: AsyncSession, table: Any, values: dict[str, Any], where: ColumnElement[bool]
) -> Any:
    """The id of the row matching `where`, inserted first if missing (race-free upsert)."""
    insert_into = postgresql.insert if await _dialect(session) == "postgresql" else sqlite.insert
    await session.execute(insert_into(table).values(values).on_conflict_do_nothing())
    return (await session.execute(select(table.c.id).where(where))).scalar_one()


async def add_point(
    session: AsyncSession,
    *,
    project: str,
    test: str,
    data: dict[str, Any],
    date_entered: datetime | None = None,
) -> Row:
    """Store one data point, creating its project and test on their first point."""
    check_name("project", project)
    check_name("test", test)
    _check_data(data)
    now = utcnow()
    project_id = await _ensure(
        session, projects, {"name": project, "created_at": now}, projects.c.name == project
    )
    test_id = await _ensure(
        session,
        tests,
        {"project_id": project_id, "name": test, "created_at": now},
        and_(tests.c.project_id == project_id, tests.c.name == test),
    )
    entered = date_entered or now
    await _unseal(session, test_id, entered.astimezone(UTC).date())
    stmt = (
        insert(points)
        .values(test_id=test_id, date_entered=entered, data=data)
        .returning(points.c.id, points.c.date_entered, points.c.data)
    )
    return dict((await session.execute(stmt)).mappings().one())


async def _unseal(session: AsyncSession, test_id: Any, day: date) -> None:
    """Mark `day` as having points that are not sealed, clearing its body if it had one.

    The upsert locks the day's row until commit (even when it changes nothing), so a point
    and a sealing of its day are ordered: the sealer either sees the point or seals first
    and has its body cleared here.
    """
    insert_into = postgresql.insert if await _dialect(session) == "postgresql" else sqlite.insert
    stmt = insert_into(chunks).values(test_id=test_id, day=day)
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=[chunks.c.test_id, chunks.c.day],
            # null(): None would be stored as JSON null in `bins`, not as SQL NULL.
            set_={"count": None, "body": None, "checksum": None, "size": None, "bins": null()},
            where=chunks.c.body.is_not(None),
        )
    )


async def seal_next_day(session: AsyncSession) -> bool:
    """Render and compress the body of one unsealed day older than yesterday; False when
    none is left.

    The day's row is locked first (skipping one a writer holds), and its points are read by
    the next statement, so they include every point committed before the lock was granted.
    """
    cutoff = utcnow().date() - timedelta(days=SEAL_AFTER_DAYS - 1)
    pick = (
        select(chunks.c.test_id, chunks.c.day)
        .where(chunks.c.body.is_(None), chunks.c.day < cutoff)
        .order_by(chunks.c.day)
        .limit(1)
        .with_for_update(skip_locked=True)
    )
    found = (await session.execute(pick)).one_or_none()
    if found is None:
        return False
    start = datetime.combine(found.day, time(), UTC)
    in_day = and_(
        points.c.test_id == found.test_id,
        points.c.date_entered >= start,
        points.c.date_entered < start + ONE_DAY,
    )
    # Each point rendered by the same SQL as a range read, and decoded for the bins.
    day_points = (
        select(points.c.id, points.c.date_entered, points.c.data, _element())
        .where(in_day)
        .order_by(points.c.date_entered, points.c.id)
    )
    rows = (await session.execute(day_points)).all()
    body = ",".join(row[3] for row in rows).encode()
    # Compressing and summarising a day is CPU work of tens of milliseconds: out of the loop.
    piece = await asyncio.to_thread(deflate.compress, body)
    summary = await asyncio.to_thread(bins.summarise, [row[:3] for row in rows], start)
    await session.execute(
        update(chunks)
        .where(chunks.c.test_id == found.test_id, chunks.c.day == found.day)
        .values(
            count=len(rows),
            body=piece.data,
            checksum=piece.checksum,
            size=piece.size,
            bins=null() if summary is None else summary,
        )
    )
    return True


def _check_data(data: dict[str, Any]) -> None:
    encoded = jsoncodec.dumps(data)
    if len(encoded) > MAX_POINT_BYTES:
        raise InvalidInput(f"a data point may hold at most {MAX_POINT_BYTES} bytes of JSON")
    if b"\\u0000" in encoded:
        raise InvalidInput("strings may not contain NUL (\\u0000) characters")


async def list_projects(session: AsyncSession) -> list[Row]:
    """Every project with its number of tests, by name."""
    stmt = (
        select(projects.c.name, projects.c.created_at, func.count(tests.c.id).label("tests"))
        .outerjoin(tests, tests.c.project_id == projects.c.id)
        .group_by(projects.c.id, projects.c.name, projects.c.created_at)
        .order_by(projects.c.name)
    )
    return [dict(r) for r in (await session.execute(stmt)).mappings()]


async def list_tests(session: AsyncSession, project: str) -> list[Row]:
    """The tests of a project, by name; NotFound for an unknown project."""
    stmt = (
        select(projects.c.id, tests.c.name, tests.c.created_at)
        .outerjoin(tests, tests.c.project_id == projects.c.id)
        .where(projects.c.name == project)
        .order_by(tests.c.name)
    )
    found = (await session.execute(stmt)).mappings().all()
    if not found:
        raise NotFound(f"project {project} not found", payload={"project": project})
    return [{"name": r["name"], "created_at": r["created_at"]} for r in found if r["name"]]


async def _test_id(session: AsyncSession, project: str, test: str) -> Any:
    stmt = (
        select(tests.c.id)
        .join(projects, projects.c.id == tests.c.project_id)
        .where(projects.c.name == project, tests.c.name == test)
    )
    found = (await session.execute(stmt)).scalar_one_or_none()
    if found is None:
        raise NotFound(f"test {project}/{test} not found", payload={"project": project})
    return found


@dataclass(frozen=True)
class Series:
    """A range of points as the wire needs it: stretches of JSON objects joined by commas,
    oldest first, rendered by the database (sealed days compressed), and how many points
    they hold."""

    stretches: tuple[bytes | Piece, ...]
    count: int

    def parts(self, before: bytes, after: bytes) -> list[bytes | Piece]:
        """The points as a JSON array between `before` and `after`, as parts of a body
        (`aerodrome.deflate`): a 30-day series is megabytes, copied once."""
        parts: list[bytes | Piece] = [before, b"["]
        for number, stretch in enumerate(self.stretches):
            parts += (b",", stretch) if number else (stretch,)
        parts += (b"]", after)
        return parts

    def json(self) -> bytes:
        """The JSON array alone, uncompressed."""
        return deflate.inflate(self.parts(b"", b""))


async def list_series(
    session: AsyncSession, *, project: str, test: str, query: SeriesQuery
) -> Series:
    """`list_points` for a series query as both the native API and NFSS take it."""
    return await list_points(
        session,
        project=project,
        test=test,
        start=query.start,
        end=query.end,
        max_points=query.max_points,
        key=query.key,
    )


async def list_points(
    session: AsyncSession,
    *,
    project: str,
    test: str,
    start: datetime,
    end: datetime,
    max_points: int | None = None,
    key: str | None = None,
) -> Series:
    """The points of a test in [start, end), oldest first; at most `max_points` of them,
    downsampled in the database, when given.

    The database renders the JSON array itself (stored data spliced in as it is): a long
    series reaches the response as one string, without a Python object per point.
    """
    if start >= end:
        raise InvalidInput("start_date must be earlier than end_date")
    if key is not None and not KEY_PATTERN.match(key):
        raise InvalidInput(f"invalid key {key!r}: letters, digits and . _ - only")
    dialect = await _dialect(session)
    if max_points is not None:
        test_id = await _test_id(session, project, test)
        sampled = await _downsampled_from_bins(session, test_id, start, end, max_points, key)
        if sampled is not None:
            return sampled
        in_range = and_(
            points.c.test_id == test_id,
            points.c.date_entered >= start,
            points.c.date_entered < end,
        )
        count = select(func.count()).select_from(points).where(in_range)
        if int((await session.execute(count)).scalar_one()) > max_points:
            chosen = _downsampled(dialect, test_id, in_range, start, end, max_points, key)
            return await _picked(session, dialect, points.c.id.in_(chosen))
    # The range statements find the test by its names themselves: one round trip less.
    series = await _read_range(session, dialect, {"project": project, "test": test}, start, end)
    if not series.count:
        await _test_id(session, project, test)  # NotFound for an unknown test
    return series


async def _downsampled_from_bins(
    session: AsyncSession,
    test_id: Any,
    start: datetime,
    end: datetime,
    max_points: int,
    key: str | None,
) -> Series | None:
    """Downsampling from the bins of sealed days (stats/bins.py) and the points of the
    partial days at both ends; None when the range is short, its buckets narrower than
    MIN_BINS_PER_BUCKET bins, a whole day not sealed, or the points fewer than
    `max_points`: the caller then reads the points."""
    count = max(1, max_points // 2)
    if (end - start).total_seconds() < count * bins.MIN_BINS_PER_BUCKET * bins.BIN_SECONDS:
        return None
    start, end, first_day = _in_utc_with_first_whole_day(start, end)
    days = (end.date() - first_day).days
    if days < 2:
        return None
    path = ("ends",) if key is None else ("keys", key)
    sealed = select(chunks.c.day, chunks.c.count, chunks.c.bins[path]).where(
        chunks.c.test_id == test_id,
        chunks.c.day >= first_day,
        chunks.c.day < end.date(),
        chunks.c.body.is_not(None),
        chunks.c.bins.is_not(None),
    )
    summaries = (await session.execute(sealed)).all()
    if len(summaries) < days:
        return None
    when = points.c.date_entered
    at_the_ends = and_(
        points.c.test_id == test_id,
        or_(
            and_(when >= start, when < _midnight(first_day)),
            and_(when >= _midnight(end.date()), when < end),
        ),
    )
    dialect = await _dialect(session)
    field = _number(key, dialect) if key else null()
    edges = (await session.execute(select(points.c.id, when, field).where(at_the_ends))).all()
    if sum(day_count for _, day_count, _ in summaries) + len(edges) <= max_points:
        return None
    buckets = bins.Buckets(start, end, count)
    for day, _, day_bins in summaries:
        bins.offer_bins(buckets, _midnight(day), day_bins, key)
    for point_id, entered, value in edges:
        bins.offer_point(buckets, point_id, entered, value, key)
    ids = buckets.ids()
    # PostgreSQL: one array parameter instead of a thousand bound values to render.
    kept = (
        points.c.id == any_(cast(ids, postgresql.ARRAY(BigInteger)))
        if dialect == "postgresql"
        else points.c.id.in_(ids)
    )
    return await _picked(session, dialect, kept)


async def _picked(session: AsyncSession, dialect: str, kept: ColumnElement[bool]) -> Series:
    """The points `kept` picks (a downsampling's few), rendered in time order."""
    total, body = (await session.execute(series_statement(kept, dialect, a_range=False))).one()
    return Series((body.encode(),) if body else (), int(total))


@dataclass(frozen=True)
class _Part:
    """A stretch of a series: a sealed day or a time range read from the points."""

    start: datetime
    count: int
    body: bytes | Piece


async def _read_range(
    session: AsyncSession, dialect: str, names: dict[str, str], start: datetime, end: datetime
) -> Series:
    """Every point of [start, end) in time order: the whole days from their sealed bodies,
    the rest from the points. One statement reads the sealed days and the partial days at
    both ends; a second one, only when a whole day is not sealed, reads those days."""
    start, end, first_day = _in_utc_with_first_whole_day(start, end)
    days_start, days_end = _midnight(first_day), _midnight(end.date())
    if days_start >= days_end:
        return _series(await _read_parts(session, dialect, names, [(start, end)]))
    edges = [(a, b) for a, b in ((start, days_start), (days_end, end)) if a < b]
    parts = await _read_parts(session, dialect, names, edges, (first_day, end.date()))
    sealed_days = sorted(part.start for part in parts if part.start >= days_start)
    unsealed = _gaps(days_start, days_end, sealed_days)
    if unsealed:
        parts += await _read_parts(session, dialect, names, unsealed)
    return _series(parts)


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(), UTC)


def _in_utc_with_first_whole_day(start: datetime, end: datetime) -> tuple[datetime, datetime, date]:
    """`start` and `end` in UTC, and the first UTC day that begins at or after `start`."""
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    first_day = start.date() if start.timetz() == time(tzinfo=UTC) else start.date() + ONE_DAY
    return start, end, first_day


def _series(parts: list[_Part]) -> Series:
    parts.sort(key=lambda part: part.start)
    stretches = tuple(part.body for part in parts if part.count)
    return Series(stretches, sum(part.count for part in parts))


def _gaps(
    start: datetime, end: datetime, sealed_days: list[datetime]
) -> list[tuple[datetime, datetime]]:
    """The stretches of [start, end) that the sealed days (in order) leave uncovered."""
    gaps = []
    cursor = start
    for day_start in sealed_days:
        if cursor < day_start:
            gaps.append((cursor, day_start))
        cursor = day_start + ONE_DAY
    if cursor < end:
        gaps.append((cursor, end))
    return gaps


async def _read_parts(
    session: AsyncSession,
    dialect: str,
    names: dict[str, str],
    gaps: list[tuple[datetime, datetime]],
    days: tuple[date, date] | None = None,
) -> list[_Part]:
    """Each gap's points rendered as one part and, with `days`, the sealed days in
    [first, last), in one statement; `names` are the test's `project` and `test`."""
    params: dict[str, Any] = dict(names)
    if days:
        params["first_day"], params["end_day"] = days
    for number, (gap_start, gap_end) in enumerate(gaps):
        params[f"start_{number}"], params[f"end_{number}"] = gap_start, gap_end
    statement = _parts_statement(dialect, len(gaps), sealed_days=days is not None)
    connection = await session.connection()  # Core: this is the hot path
    parts = []
    for gap, day, total, checksum, size, body in await connection.execute(statement, params):
        if gap is None:
            parts.append(_Part(_midnight(day), total, Piece(body, checksum, size)))
        else:
            parts.append(_Part(gaps[gap][0], int(total), body or b""))
    return parts


@lru_cache(maxsize=64)
def _parts_statement(dialect: str, gaps: int, *, sealed_days: bool) -> Executable:
    """Rows (gap, day, count, checksum, size, body): the sealed days between the bound
    `first_day` and `end_day`, then one row per gap [`start_N`, `end_N`). Built once per
    shape: the statement is large, and building it costs more than running it."""
    test_id = (
        select(tests.c.id)
        .join(projects, projects.c.id == tests.c.project_id)
        .where(projects.c.name == bindparam("project"), tests.c.name == bindparam("test"))
        .scalar_subquery()
    )
    selects = []
    if sealed_days:
        day = chunks.c.day
        columns = (chunks.c.count, chunks.c.checksum, chunks.c.size, chunks.c.body)
        selects.append(
            select(cast(null(), Integer), day, *columns).where(
                chunks.c.test_id == test_id,
                day >= bindparam("first_day", type_=day.type),
                day < bindparam("end_day", type_=day.type),
                chunks.c.body.is_not(None),
            )
        )
    when = points.c.date_entered
    for number in range(gaps):
        in_gap = and_(
            points.c.test_id == test_id,
            when >= bindparam(f"start_{number}", type_=when.type),
            when < bindparam(f"end_{number}", type_=when.type),
        )
        rendered = series_statement(in_gap, dialect).subquery()
        body = (
            func.convert_to(rendered.c.body, literal_column("'UTF8'"), type_=LargeBinary)
            if dialect == "postgresql"
            else cast(rendered.c.body, LargeBinary)
        )
        nothing = (cast(null(), BigInteger), cast(null(), Integer))
        selects.append(
            select(
                literal_column(str(number)), cast(null(), Date), rendered.c.total, *nothing, body
            )
        )
    return selects[0] if len(selects) == 1 else union_all(*selects)


# No limit (LIMIT NULL), but in a sub-select, whose value the planner cannot know: it then
# plans for a tenth of the rows and walks the (test_id, date_entered, id) index in order.
# Without it, it prefers a bitmap scan and a sort (which spills to disk on a 30-day range),
# because it discounts the heap order of a multi-column index (btcostestimate takes 3/4 of
# the first column's correlation), so that an ordered index scan looks like random reads.
_NO_LIMIT_UNSEEN_BY_THE_PLANNER = select(cast(null(), BigInteger)).scalar_subquery()


def series_statement(
    where: ColumnElement[bool], dialect: str, *, a_range: bool = True
) -> Select[Any]:
    """One row: the number of points matching `where` and their JSON objects joined by
    commas, oldest first (NULL when there are none). `a_range`: `where` is a time range of
    one test, read by walking the index; otherwise a few points picked by id.

    The ordered subquery feeds the aggregate in index order; an ORDER BY inside the
    aggregate would sort the rendered text again (PostgreSQL before 16, SQLite before 3.44).
    """
    ordered = (
        select(_element().label("element"))
        .where(where)
        .order_by(points.c.date_entered, points.c.id)
    )
    if a_range and dialect == "postgresql":
        ordered = ordered.limit(_NO_LIMIT_UNSEEN_BY_THE_PLANNER)
    rows = ordered.subquery("ordered")
    joined = (
        func.string_agg(rows.c.element, literal(","))
        if dialect == "postgresql"
        else func.group_concat(rows.c.element, literal(","))
    )
    return select(func.count().label("total"), joined.label("body")).select_from(rows)


def _element() -> ColumnElement[str]:
    """A point as `{"id","date_entered","data"}` in SQL, from the wire forms stored with it:
    nothing is formatted or re-rendered per point."""
    parts = [
        literal('{"id":'),
        cast(points.c.id, Text),
        literal(',"date_entered":"'),
        points.c.date_entered_iso,
        literal('","data":'),
        cast(points.c.data, Text),
        literal("}"),
    ]
    joined = parts[0]
    for part in parts[1:]:
        joined = joined.op("||")(part)
    return joined


def _downsampled(
    dialect: str,
    test_id: Any,
    in_range: ColumnElement[bool],
    start: datetime,
    end: datetime,
    max_points: int,
    key: str | None,
) -> Select[Any]:
    """The ids of the points to keep: per bucket, the extremes found by a GROUP BY (a hash
    aggregate, no sort), then the points holding them (the lowest id among equals)."""
    buckets = max(1, max_points // 2)
    span = (end - start).total_seconds()
    offset = (_epoch(points.c.date_entered, dialect) - start.timestamp()) * (buckets / span)
    # PostgreSQL rounds a float cast to integer; SQLite truncates (the same as floor here).
    bucket = cast(func.floor(offset) if dialect == "postgresql" else offset, Integer)
    if key is None:
        return _first_and_last(test_id, in_range, bucket)
    if dialect == "postgresql":
        return _extremes_by_array(in_range, bucket, key)
    rows = (
        select(points.c.id, bucket.label("bucket"), _number(key).label("value"))
        .where(in_range)
        .cte("bucketed")
    )
    extremes = (
        select(
            rows.c.bucket,
            func.min(rows.c.value).label("low"),
            func.max(rows.c.value).label("high"),
        )
        .group_by(rows.c.bucket)
        .subquery()
    )
    holders = rows.join(
        extremes,
        and_(
            rows.c.bucket == extremes.c.bucket,
            or_(rows.c.value == extremes.c.low, rows.c.value == extremes.c.high),
        ),
    )
    return select(func.min(rows.c.id)).select_from(holders).group_by(rows.c.bucket, rows.c.value)


def _extremes_by_array(in_range: ColumnElement[bool], bucket: Any, key: str) -> Select[Any]:
    """PostgreSQL: one pass and one hash aggregate. Arrays compare element by element, so
    the least `[value, id]` is the lowest value held by the lowest id, and the greatest
    `[value, -id]` the highest value held by the lowest id; no join back to the rows."""
    # `json ->` parses the stored text on every call: OFFSET 0 keeps PostgreSQL from
    # flattening this subquery, so the field is extracted once per point, not once for
    # each place the value is used below.
    fields = (
        select(
            bucket.label("bucket"),
            points.c.data.op("->")(literal(key)).label("field"),
            cast(points.c.id, Float).label("id"),
        )
        .where(in_range)
        .offset(literal_column("0"))
        .subquery("fields")
    )
    value = _json_number(fields.c.field)
    pair = postgresql.ARRAY(Float)
    low = func.min(postgresql.array([value, fields.c.id]), type_=pair)
    high = func.max(postgresql.array([value, -fields.c.id]), type_=pair)
    extremes = (
        select(low[2].label("low"), high[2].label("high"))
        .where(value.is_not(None))
        .group_by(fields.c.bucket)
        .subquery("extremes")
    )
    holders = func.unnest(postgresql.array([extremes.c.low, -extremes.c.high]))
    return select(cast(holders, BigInteger)).select_from(extremes)


def _first_and_last(test_id: Any, in_range: ColumnElement[bool], bucket: Any) -> Select[Any]:
    """The first and the last point of each bucket, found on the index alone."""
    ends = (
        select(
            func.min(points.c.date_entered).label("first"),
            func.max(points.c.date_entered).label("last"),
        )
        .where(in_range)
        .group_by(bucket)
        .subquery()
    )
    at_an_end = or_(points.c.date_entered == ends.c.first, points.c.date_entered == ends.c.last)
    return (
        select(func.min(points.c.id))
        .select_from(points.join(ends, and_(points.c.test_id == test_id, at_an_end)))
        .group_by(points.c.date_entered)
    )


def _epoch(column: Any, dialect: str) -> ColumnElement[float]:
    if dialect == "postgresql":
        return cast(func.date_part("epoch", column), Float)
    # SQLite stores UTC text; julianday reads it, to within float error, hence the rounding
    # to the millisecond (a point on a bucket boundary must fall in the later bucket).
    return func.round((func.julianday(column) - 2440587.5) * 86400.0, 3)


def _json_number(field: ColumnElement[Any]) -> ColumnElement[float]:
    """PostgreSQL: a `json` value as a float when it is a number, NULL otherwise."""
    return case((func.json_typeof(field) == "number", cast(cast(field, Text), Float)), else_=None)


def _number(key: str, dialect: str = "sqlite") -> ColumnElement[float]:
    """The numeric value of top-level `key` of a point's data, NULL when not a number."""
    if dialect == "postgresql":
        return _json_number(points.c.data.op("->")(literal(key)))
    path = '$."' + key + '"'
    return case(
        (
            func.json_type(points.c.data, path).in_(("integer", "real")),
            cast(func.json_extract(points.c.data, path), Float),
        ),
        else_=None,
    )
