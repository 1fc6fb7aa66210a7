"""Load 100,000 components and measure `GET /api/v1/components` against `aerodrome serve`.

    .venv/bin/python benchmarks/components_list.py --database sqlite
    .venv/bin/python benchmarks/components_list.py --database postgresql --workers 2

Needs `wrk` (Debian package `wrk`). Prints latency percentiles and throughput of the list
query, Basic-authenticated, at `--connections` concurrent connections: once with every
connection sending its next request as soon as it has an answer (the server saturated: the
latency is mostly the queue), once with each pausing `--pause-ms` on average between requests, as
polling clients do (the latency of a request at that load). The cost of
authentication is measured on `GET /api/v1/componenttypes`, whose SQL is the same for an
anonymous and an authenticated caller (the server runs with `public_reads`), as the mean
latency over one connection, which leaves queueing out.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import random
import shutil
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert

from aerodrome.catalog.models import Component, ComponentType
from aerodrome.db.migrate import upgrade
from aerodrome.db.session import Database
from aerodrome.identity import service as identity_service
from aerodrome.settings import Settings
from harness import (
    PASSWORD,
    create_database,
    drop_database,
    floor_line,
    machine_line,
    one_connection,
    one_connection_line,
    start_server,
    wrk,
)

TYPES = [f"type-{i}" for i in range(20)]
QUERY = "/api/v1/components?limit=20&where=type:type-7&sort=-created_at"
SAME_FOR_EVERYONE = "/api/v1/componenttypes?limit=20&sort=name"


def component_rows(count: int, team_ids: list[uuid.UUID]) -> list[dict[str, object]]:
    rng = random.Random(7)
    start = datetime(2024, 1, 1, tzinfo=UTC)
    rows = []
    for i in range(count):
        created = start + timedelta(seconds=i * 300)
        rows.append(
            {
                "id": uuid.uuid4(),
                "name": f"component-{i}",
                "type": rng.choice(TYPES),
                "version": f"{i // 1000}.{i % 1000}",
                "train": rng.choice(["stable", "beta", "alpha"]),
                "released_at": created,
                "url": None,
                "data": {"build": i, "arch": rng.choice(["x86_64", "aarch64"])},
                "tags": rng.sample(["ga", "nightly", "candidate", "debug"], k=2),
                # One in ten is private to a team; the rest are public.
                "team_id": rng.choice(team_ids) if i % 10 == 0 else None,
                "created_at": created,
                "updated_at": created,
                "etag": uuid.uuid4().hex,
                "state": "active",
            }
        )
    return rows


async def load(url: str, count: int) -> None:
    await upgrade(url)
    database = Database(Settings(database_url=url))
    async with database.unit_of_work() as session:
        await identity_service.ensure_admin(session, PASSWORD)
    team_ids = [uuid.uuid4() for _ in range(10)]
    now = datetime.now(UTC)
    async with database.unit_of_work() as session:
        teams = identity_service.teams
        await session.execute(
            insert(teams),
            [
                {"id": t, "name": f"team-{i}", "created_at": now, "updated_at": now, "etag": "x"}
                for i, t in enumerate(team_ids)
            ],
        )
    async with database.unit_of_work() as session:
        await session.execute(
            insert(ComponentType.__table__),
            [
                {
                    "id": uuid.uuid4(),
                    "name": name,
                    "created_at": now,
                    "updated_at": now,
                    "etag": "x",
                }
                for name in TYPES
            ],
        )
    rows = component_rows(count, team_ids)
    for offset in range(0, count, 10_000):
        async with database.unit_of_work() as session:
            await session.execute(insert(Component.__table__), rows[offset : offset + 10_000])
    # Steady state: statistics gathered and (PostgreSQL) the visibility map set, as
    # autovacuum would have done on a long-lived database.
    # The checkpoint writes the load out now rather than while the load is being measured.
    maintenance = (
        ["ANALYZE", "PRAGMA wal_checkpoint(PASSIVE)"]
        if database.is_sqlite
        else ["VACUUM ANALYZE components", "CHECKPOINT"]
    )
    autocommit = database.engine.execution_options(isolation_level="AUTOCOMMIT")
    for statement in maintenance:
        async with autocommit.connect() as connection:
            await connection.exec_driver_sql(statement)
    await database.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--pool-size", type=int, default=10, help="connections per worker")
    parser.add_argument(
        "--pause-ms", type=int, default=100, help="mean pause of each client in the paced run"
    )
    args = parser.parse_args()
    print(machine_line(), flush=True)
    if shutil.which("wrk") is None:
        sys.exit("wrk is required: apt-get install wrk")
    print(floor_line(args.connections, args.seconds, args.workers), flush=True)

    data_dir = Path(tempfile.mkdtemp(prefix="aerodrome-bench-"))
    url = asyncio.run(create_database(args.database, data_dir))
    try:
        started = time.perf_counter()
        asyncio.run(load(url, args.rows))
        print(f"loaded {args.rows} components in {time.perf_counter() - started:.1f} s")
        settings = {"AERODROME_PUBLIC_READS": "true", "AERODROME_DB_POOL_SIZE": str(args.pool_size)}
        server = start_server(url, data_dir, args.port, args.workers, settings)
        try:
            report(args, f"http://127.0.0.1:{args.port}")
        finally:
            server.terminate()
            server.wait(timeout=30)
    finally:
        asyncio.run(drop_database(url))
        shutil.rmtree(data_dir, ignore_errors=True)


def report(args: argparse.Namespace, base: str) -> None:
    token = base64.b64encode(f"admin:{PASSWORD}".encode()).decode()
    basic = {"Authorization": f"Basic {token}"}
    print(f"database={args.database} workers={args.workers} connections={args.connections}")
    wrk(base + QUERY, basic, args.connections, 5)  # warm-up: every worker remembers the login
    figures = wrk(base + QUERY, basic, args.connections, args.seconds)
    print(
        f"GET {QUERY} (Basic): p50 {figures['p50']:.2f} ms  p90 {figures['p90']:.2f} ms  "
        f"p99 {figures['p99']:.2f} ms  {figures['rps']:.0f} req/s  non-2xx {figures['non_2xx']:.0f}"
    )
    paced = wrk(base + QUERY, basic, args.connections, args.seconds, pause_ms=args.pause_ms)
    print(
        f"GET {QUERY} (Basic), each connection pausing {args.pause_ms} ms on average: "
        f"p50 {paced['p50']:.2f} ms  p90 {paced['p90']:.2f} ms  p99 {paced['p99']:.2f} ms  "
        f"{paced['rps']:.0f} req/s  non-2xx {paced['non_2xx']:.0f}"
    )
    print(f"GET {QUERY} (Basic), {one_connection_line(one_connection(base + QUERY, basic))}")
    authenticated = one_connection(base + SAME_FOR_EVERYONE, basic)["mean"]
    anonymous = one_connection(base + SAME_FOR_EVERYONE, {})["mean"]
    print(
        f"GET {SAME_FOR_EVERYONE} over one connection, mean: Basic {authenticated:.3f} ms, "
        f"anonymous {anonymous:.3f} ms, authentication costs {authenticated - anonymous:.3f} ms"
    )


if __name__ == "__main__":
    main()
