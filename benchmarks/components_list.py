"""Load 100,000 components and measure `GET /api/v1/components` against `aerodrome serve`.

    .venv/bin/python benchmarks/components_list.py --database sqlite
    .venv/bin/python benchmarks/components_list.py --database postgresql --workers 2

Needs `wrk` (Debian package `wrk`). Prints latency percentiles and throughput of the list
query, Basic-authenticated, at `--connections` concurrent connections. The cost of
authentication is measured on `GET /api/v1/componenttypes`, whose SQL is the same for an
anonymous and an authenticated caller (the server runs with `public_reads`), as the mean
latency over one connection, which leaves queueing out.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from sqlalchemy import insert, text
from sqlalchemy.ext.asyncio import create_async_engine

from aerodrome.catalog.models import Component, ComponentType
from aerodrome.db.migrate import upgrade
from aerodrome.db.session import Database
from aerodrome.identity import service as identity_service
from aerodrome.settings import Settings

PASSWORD = "benchmark-password"
POSTGRES_ADMIN = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
TYPES = [f"type-{i}" for i in range(20)]
QUERY = "/api/v1/components?limit=20&where=type:type-7&sort=-created_at"
SAME_FOR_EVERYONE = "/api/v1/componenttypes?limit=20&sort=name"


async def create_database(kind: str, data_dir: Path) -> str:
    if kind == "sqlite":
        return f"sqlite+aiosqlite:///{data_dir / 'aerodrome.db'}"
    name = f"aerodrome_bench_{uuid.uuid4().hex[:8]}"
    engine = create_async_engine(POSTGRES_ADMIN, isolation_level="AUTOCOMMIT")
    async with engine.connect() as connection:
        await connection.execute(text(f'CREATE DATABASE "{name}"'))
    await engine.dispose()
    return POSTGRES_ADMIN.rsplit("/", 1)[0] + "/" + name


async def drop_database(url: str) -> None:
    if not url.startswith("postgresql"):
        return
    engine = create_async_engine(POSTGRES_ADMIN, isolation_level="AUTOCOMMIT")
    async with engine.connect() as connection:
        name = url.rsplit("/", 1)[1]
        await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    await engine.dispose()


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


def start_server(
    url: str, data_dir: Path, port: int, workers: int, pool_size: int
) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "AERODROME_DATABASE_URL": url,
        "AERODROME_DATA_DIR": str(data_dir),
        "AERODROME_PORT": str(port),
        "AERODROME_WORKERS": str(workers),
        "AERODROME_PUBLIC_READS": "true",
        "AERODROME_LOG_LEVEL": "warning",
        "AERODROME_DB_POOL_SIZE": str(pool_size),
    }
    command = [sys.executable, "-m", "aerodrome", "serve"]
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return process
        except httpx.TransportError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("server did not start")


def wrk(url: str, headers: dict[str, str], connections: int, seconds: int) -> dict[str, float]:
    command = ["wrk", "--latency", "-t", "2", "-c", str(connections), "-d", f"{seconds}s"]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    output = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    figures = {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))}  # type: ignore[union-attr]
    for percentile in ("50", "90", "99"):
        found = re.search(rf"^\s+{percentile}%\s+([\d.]+)(us|ms|s)", output, re.M)
        assert found, output
        scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[found.group(2)]
        figures[f"p{percentile}"] = float(found.group(1)) * scale
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    figures["non_2xx"] = float(errors.group(1)) if errors else 0.0
    return figures


def serial_mean_ms(url: str, headers: dict[str, str], requests: int = 2000) -> float:
    with httpx.Client(headers=headers) as client:
        for _ in range(100):
            client.get(url)
        started = time.perf_counter()
        for _ in range(requests):
            assert client.get(url).status_code == 200
        return (time.perf_counter() - started) / requests * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--pool-size", type=int, default=10, help="connections per worker")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is required: apt-get install wrk")

    data_dir = Path(tempfile.mkdtemp(prefix="aerodrome-bench-"))
    url = asyncio.run(create_database(args.database, data_dir))
    try:
        started = time.perf_counter()
        asyncio.run(load(url, args.rows))
        print(f"loaded {args.rows} components in {time.perf_counter() - started:.1f} s")
        server = start_server(url, data_dir, args.port, args.workers, args.pool_size)
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
    single = serial_mean_ms(base + QUERY, basic)
    print(f"GET {QUERY} (Basic) over one connection: {single:.3f} ms mean")
    authenticated = serial_mean_ms(base + SAME_FOR_EVERYONE, basic)
    anonymous = serial_mean_ms(base + SAME_FOR_EVERYONE, {})
    print(
        f"GET {SAME_FOR_EVERYONE} over one connection: Basic {authenticated:.3f} ms, "
        f"anonymous {anonymous:.3f} ms, authentication costs {authenticated - anonymous:.3f} ms"
    )


if __name__ == "__main__":
    main()
