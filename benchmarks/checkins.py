"""1,000 concurrent-ish Deis check-ins against `aerodrome serve`, then the derived reads.

    .venv/bin/python benchmarks/checkins.py --database postgresql
    .venv/bin/python benchmarks/checkins.py --database sqlite --concurrency 20

`POST /deis/v3/clusters` the way the Deis client sends it (no credentials), from
`--concurrency` connections at once: 200 clusters checking in 5 times each, with 8 components.
Prints p50/p99 and throughput of the check-ins, checks that every one was recorded, then
times `GET /deis/v3/clusters/{id}` and `GET /deis/v3/clusters/age` over the result.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from harness import PASSWORD, create_database, drop_database, start_server

COMPONENTS = [
    "builder",
    "controller",
    "database",
    "minio",
    "registry",
    "router",
    "logger",
    "fluentd",
]


def checkin(cluster: int, round_: int) -> dict[str, Any]:
    return {
        "id": f"cluster-{cluster:04d}",
        "firstSeen": "0001-01-01T00:00:00Z",
        "lastSeen": "0001-01-01T00:00:00Z",
        "components": [
            {
                "component": {"name": name, "description": f"Deis Workflow {name}"},
                "version": {"train": "stable", "version": f"v2.{round_}.0"},
            }
            for name in COMPONENTS
        ],
    }


async def hammer(base: str, total: int, concurrency: int) -> tuple[list[float], float]:
    bodies = [checkin(i % 200, i // 200) for i in range(total)]
    gate = asyncio.Semaphore(concurrency)
    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(base_url=base, timeout=60, limits=limits) as client:

        async def one(body: dict[str, Any]) -> float:
            async with gate:
                began = time.perf_counter()
                response = await client.post("/deis/v3/clusters", json=body)
                assert response.status_code == 200, response.text
                return (time.perf_counter() - began) * 1000

        began = time.perf_counter()
        timings = await asyncio.gather(*(one(b) for b in bodies))
        return list(timings), time.perf_counter() - began


def serial(base: str, paths: list[str], headers: dict[str, str]) -> list[float]:
    timings = []
    with httpx.Client(base_url=base, headers=headers, timeout=60) as client:
        for path in paths:
            began = time.perf_counter()
            assert client.get(path).status_code == 200
            timings.append((time.perf_counter() - began) * 1000)
    return timings


def show(label: str, timings: list[float], seconds: float | None = None) -> None:
    ordered = sorted(timings)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    rate = len(timings) / (seconds if seconds else sum(timings) / 1000)
    print(f"{label}: p50 {statistics.median(ordered):.1f} ms  p99 {p99:.1f} ms  {rate:.0f} req/s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="postgresql")
    parser.add_argument("--checkins", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--port", type=int, default=8772)
    args = parser.parse_args()
    data_dir = Path(tempfile.mkdtemp(prefix="aerodrome-bench-"))
    url = asyncio.run(create_database(args.database, data_dir))
    # One load generator is one source address: no rate limit.
    server = start_server(
        url, data_dir, args.port, args.workers, {"AERODROME_DEIS_CHECKINS_PER_MINUTE": "0"}
    )
    base = f"http://127.0.0.1:{args.port}"
    try:
        timings, seconds = asyncio.run(hammer(base, args.checkins, args.concurrency))
        print(f"database={args.database} workers={args.workers} concurrency={args.concurrency}")
        show(f"POST /deis/v3/clusters x{args.checkins}", timings, seconds)
        token = base64.b64encode(f"admin:{PASSWORD}".encode()).decode()
        admin = {"Authorization": f"Basic {token}"}
        count = httpx.get(f"{base}/deis/v3/clusters/count", headers=admin).json()
        one = httpx.get(f"{base}/api/v1/clusters/cluster-0007", headers=admin).json()
        recorded = one["cluster"]["checkins_count"]
        print(f"clusters {count} (expected 200); cluster-0007 check-ins {recorded}")
        show(
            "GET /deis/v3/clusters/{id}",
            serial(base, [f"/deis/v3/clusters/cluster-{i:04d}" for i in range(200)], admin),
        )
        age = "/deis/v3/clusters/age?checked_in_after=2000-01-01T00:00:00Z"
        show("GET /deis/v3/clusters/age (200 clusters)", serial(base, [age] * 50, admin))
    finally:
        server.terminate()
        server.wait(timeout=30)
        asyncio.run(drop_database(url))
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
