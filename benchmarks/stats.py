"""Load 1,000,000 stats points over two years and time 30-day range reads (PostgreSQL).

    .venv/bin/python benchmarks/stats.py
    .venv/bin/python benchmarks/stats.py --points 200000 --requests 100

The points are generated inside PostgreSQL (one INSERT ... SELECT over generate_series), one
test with a point every ~63 s, stored as the server stores them. Five figures are printed
for random 30-day windows: the database's execution time of the range statement (EXPLAIN
ANALYZE, with and without the timing of every plan node), the service call in-process (SQL,
transfer and the JSON array), and `GET` against a real `aerodrome serve` of the full window
(~41,000 points) and of the window downsampled with `max_points=1000&key=value`, as p50/p99
over one connection and throughput.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from sqlalchemy import and_, text

from aerodrome.db.migrate import upgrade
from aerodrome.db.session import Database
from aerodrome.settings import Settings
from aerodrome.stats import service
from harness import create_database, drop_database, start_server

START = datetime(2024, 1, 1, tzinfo=UTC)
SPAN = timedelta(days=730)
WINDOW = timedelta(days=30)


async def load(url: str, count: int) -> None:
    await upgrade(url)
    database = Database(Settings(database_url=url))
    async with database.unit_of_work() as session:
        await service.add_point(
            session, project="bench", test="boot", data={"value": 0}, date_entered=START
        )
        await session.execute(
            text(
                """
                INSERT INTO stats_points (test_id, date_entered, date_entered_iso, data)
                SELECT t.id, at.at,
                       -- the wire form the server writes: isoformat in UTC
                       to_char(timezone('UTC', at.at), CASE
                           WHEN date_trunc('second', at.at) = at.at
                           THEN 'YYYY-MM-DD"T"HH24:MI:SS' ELSE 'YYYY-MM-DD"T"HH24:MI:SS.US'
                       END) || '+00:00',
                       -- compact, as orjson writes it
                       format('{"value":%s,"rss":%s,"build":%s}',
                              round((random() * 100)::numeric, 2), (random() * 1000)::int, i
                       )::json
                FROM stats_tests t, generate_series(1, :count) AS i,
                     LATERAL (SELECT CAST(:start AS timestamptz) + (CAST(:span AS float8) * i
                                     / :count) * interval '1 second' AS at) AS at
                """
            ),
            {"start": START, "span": SPAN.total_seconds(), "count": count},
        )
    autocommit = database.engine.execution_options(isolation_level="AUTOCOMMIT")
    for statement in ("VACUUM ANALYZE stats_points", "CHECKPOINT"):
        async with autocommit.connect() as connection:
            await connection.exec_driver_sql(statement)
    await database.dispose()


def windows(rng: random.Random, n: int) -> list[tuple[datetime, datetime]]:
    latest = SPAN - WINDOW
    starts = [START + timedelta(seconds=rng.uniform(0, latest.total_seconds())) for _ in range(n)]
    return [(s, s + WINDOW) for s in starts]


async def sql_only(url: str, spans: list[tuple[datetime, datetime]], timing: bool) -> list[float]:
    """The database's own execution time of the range statement (EXPLAIN ANALYZE). With
    `timing`, every plan node is timed too, which costs a clock read per row and node."""
    database = Database(Settings(database_url=url))
    timings = []
    points = service.points
    options = "ANALYZE, FORMAT JSON" + ("" if timing else ", TIMING OFF")
    async with database.unit_of_work(write=False) as session:
        test_id = await service._test_id(session, "bench", "boot")
        dialect = (await session.connection()).dialect
        for start, end in spans:
            where = and_(
                points.c.test_id == test_id,
                points.c.date_entered >= start,
                points.c.date_entered < end,
            )
            stmt = service.series_statement(where, dialect.name)
            sql = stmt.compile(dialect=dialect, compile_kwargs={"literal_binds": True})
            plan = await session.execute(text(f"EXPLAIN ({options}) {sql}"))
            timings.append(float(plan.scalar_one()[0]["Execution Time"]))
    await database.dispose()
    return timings


async def in_process(url: str, spans: list[tuple[datetime, datetime]]) -> list[float]:
    database = Database(Settings(database_url=url))
    timings = []
    for start, end in spans:
        async with database.unit_of_work(write=False) as session:
            began = time.perf_counter()
            series = await service.list_points(
                session, project="bench", test="boot", start=start, end=end
            )
            timings.append((time.perf_counter() - began) * 1000)
            assert series.count > 30_000
    await database.dispose()
    return timings


def over_http(base: str, spans: list[tuple[datetime, datetime]], extra: str) -> list[float]:
    timings = []
    with httpx.Client(base_url=base, timeout=60) as client:
        for start, end in spans:
            query = {"start_date": start.isoformat(), "end_date": end.isoformat()}
            began = time.perf_counter()
            response = client.get(f"/nfss/api/v1/bench/boot?{extra}", params=query)
            timings.append((time.perf_counter() - began) * 1000)
            assert response.status_code == 200, response.text
    return timings


def show(label: str, timings: list[float]) -> None:
    ordered = sorted(timings)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    rate = len(timings) / (sum(timings) / 1000)
    print(
        f"{label}: p50 {statistics.median(ordered):.1f} ms  p99 {p99:.1f} ms  "
        f"{rate:.0f} req/s over one connection  ({len(timings)} windows)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--port", type=int, default=8771)
    args = parser.parse_args()
    data_dir = Path(tempfile.mkdtemp(prefix="aerodrome-bench-"))
    url = asyncio.run(create_database("postgresql", data_dir))
    try:
        began = time.perf_counter()
        asyncio.run(load(url, args.points))
        print(f"loaded {args.points} points over 730 days in {time.perf_counter() - began:.1f} s")
        spans = windows(random.Random(5), args.requests)
        sql = "SQL of a 30-day range, database execution time"
        show(sql, asyncio.run(sql_only(url, spans, timing=True)))
        show(f"{sql} (TIMING OFF)", asyncio.run(sql_only(url, spans, timing=False)))
        show("service.list_points, 30 days, in-process", asyncio.run(in_process(url, spans)))
        server = start_server(url, data_dir, args.port, 1, {"AERODROME_PUBLIC_READS": "true"})
        try:
            base = f"http://127.0.0.1:{args.port}"
            over_http(base, spans[:10], "")  # warm-up
            show("GET 30 days (all points)", over_http(base, spans, ""))
            sampled = "max_points=1000&key=value"
            show("GET 30 days, max_points=1000&key=value", over_http(base, spans, sampled))
        finally:
            server.terminate()
            server.wait(timeout=30)
    finally:
        asyncio.run(drop_database(url))


if __name__ == "__main__":
    main()
