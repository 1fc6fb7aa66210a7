"""Load 1,000,000 stats points over two years and time 30-day range reads (PostgreSQL).

    .venv/bin/python benchmarks/stats.py
    .venv/bin/python benchmarks/stats.py --points 200000 --requests 100

The points are generated inside PostgreSQL (one INSERT ... SELECT over generate_series), one
test with a point every ~63 s, stored as the server stores them; then every day is sealed, as
the server's sealer does in the background (its rate is printed). Five figures are printed
for random 30-day windows: the database's execution time of the statement that reads a range
from the points alone (EXPLAIN ANALYZE, with and without the timing of every plan node: what
a range of days not sealed yet costs), the service call in-process (sealed days plus the two
partial days at the ends), and `GET` against a real `aerodrome serve` of the full window
(~41,000 points) and of the window downsampled with `max_points=1000&key=value`, as p50/p99
over one connection and throughput.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import re
import statistics
import subprocess
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

import httpx
from sqlalchemy import and_, text

from aerodrome import deflate
from aerodrome.db.migrate import upgrade
from aerodrome.db.session import Database
from aerodrome.settings import Settings
from aerodrome.stats import service
from harness import create_database, drop_database, machine_line, start_server, wrk

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
        await session.execute(
            text(
                "INSERT INTO stats_day_chunks (test_id, day) SELECT DISTINCT test_id,"
                " (date_entered AT TIME ZONE 'UTC')::date FROM stats_points ON CONFLICT DO NOTHING"
            )
        )
    began, days = time.perf_counter(), 0
    while True:
        async with database.unit_of_work() as session:
            if not await service.seal_next_day(session):
                break
        days += 1
    elapsed = time.perf_counter() - began
    print(f"sealed {days} days in {elapsed:.1f} s ({days / elapsed:.0f} days/s)")
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
            deflate.zlib_stream(series.parts(b"", b""))  # the body a deflate client gets
            timings.append((time.perf_counter() - began) * 1000)
            assert series.count > 30_000
    await database.dispose()
    return timings


def over_http(base: str, spans: list[tuple[datetime, datetime]], extra: str) -> list[float]:
    timings = []
    with httpx.Client(base_url=base, timeout=60) as client:
        for start, end in spans:
            began = time.perf_counter()
            response = client.get(path(start, end, extra))
            timings.append((time.perf_counter() - began) * 1000)
            assert response.status_code == 200, response.text
    return timings


def path(start: datetime, end: datetime, extra: str = "") -> str:
    query = urlencode({"start_date": start.isoformat(), "end_date": end.isoformat()})
    return f"/nfss/api/v1/bench/boot?{query}{extra}"


def over_wrk(
    base: str, spans: list[tuple[datetime, datetime]], seconds: int, accept_encoding: str
) -> None:
    """wrk (C, no Python client in the figure) over one connection, cycling the windows."""
    paths = ", ".join(f'"{path(start, end)}"' for start, end in spans)
    script = (
        f"paths = {{{paths}}}\ni = 0\n"
        "request = function() i = i % #paths + 1; return wrk.format('GET', paths[i]) end\n"
    )
    before = handled_within(base)
    figures = wrk(base + "/", {"Accept-Encoding": accept_encoding}, 1, seconds, script)
    handled = {bound: count - before.get(bound, 0) for bound, count in handled_within(base).items()}
    total = handled[float("inf")]
    shares = ", ".join(
        f"{100 * handled[bound] / total:.1f} % within {bound * 1000:g} ms"
        for bound in (0.01, 0.015, 0.025)
    )
    print(
        f"GET 30 days (all points), wrk over one connection, Accept-Encoding {accept_encoding}:"
        f" p50 {figures['p50']:.1f} ms  "
        f"p90 {figures['p90']:.1f} ms  p99 {figures['p99']:.1f} ms  {figures['rps']:.0f} req/s"
        f"  ({figures['non_2xx']:.0f} errors)"
    )
    print(f"  the server's own timing of these requests (/metrics): {shares}")


def over_curl(base: str, spans: list[tuple[datetime, datetime]]) -> list[float]:
    """curl (libcurl, C) over one kept-alive connection, taking deflate: time to the last
    byte of each answer."""
    command = ["curl", "-sS", "--fail", "-H", "Accept-Encoding: deflate"]
    for start, end in spans:
        command += ["-o", "/dev/null", "-w", "%{time_total}\\n", base + path(start, end)]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    return [float(seconds) * 1000 for seconds in output.split()]


def handled_within(base: str) -> dict[float, float]:
    """The server's latency histogram of the NFSS series route: requests per upper bound."""
    text = httpx.get(f"{base}/metrics").text
    route = re.escape('method="GET",route="/nfss/api/v1/{project}/{test}"')
    pattern = rf'_duration_seconds_bucket\{{le="([^"]+)",{route}\}} (\S+)'
    return {float(bound): float(count) for bound, count in re.findall(pattern, text)}


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
    parser.add_argument("--wrk-seconds", type=int, default=20)
    args = parser.parse_args()
    print(machine_line(), flush=True)
    data_dir = Path(tempfile.mkdtemp(prefix="aerodrome-bench-"))
    url = asyncio.run(create_database("postgresql", data_dir))
    try:
        began = time.perf_counter()
        asyncio.run(load(url, args.points))
        print(f"loaded {args.points} points over 730 days in {time.perf_counter() - began:.1f} s")
        spans = windows(random.Random(5), args.requests)
        sql = "SQL of a 30-day range read from the points alone, database execution time"
        show(sql, asyncio.run(sql_only(url, spans, timing=True)))
        show(f"{sql} (TIMING OFF)", asyncio.run(sql_only(url, spans, timing=False)))
        label = "service.list_points and the deflate body, 30 days, in-process"
        show(label, asyncio.run(in_process(url, spans)))
        server = start_server(url, data_dir, args.port, 1, {"AERODROME_PUBLIC_READS": "true"})
        try:
            base = f"http://127.0.0.1:{args.port}"
            over_http(base, spans[:10], "")  # warm-up
            show("GET 30 days (all points), httpx", over_http(base, spans, ""))
            # What browsers, requests and httpx send; then a client that takes no compression.
            show("GET 30 days (all points), curl, deflate", over_curl(base, spans * 3))
            over_wrk(base, spans, args.wrk_seconds, "gzip, deflate")
            over_wrk(base, spans, args.wrk_seconds, "identity")
            sampled = "&max_points=1000&key=value"
            show("GET 30 days, max_points=1000&key=value", over_http(base, spans, sampled))
        finally:
            server.terminate()
            server.wait(timeout=30)
    finally:
        asyncio.run(drop_database(url))


if __name__ == "__main__":
    main()
