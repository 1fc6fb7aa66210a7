"""1,000 concurrent-ish Deis check-ins against `aerodrome serve`, then the derived reads.

    .venv/bin/python benchmarks/checkins.py --database postgresql
    .venv/bin/python benchmarks/checkins.py --database sqlite --concurrency 20

`POST /deis/v3/clusters` the way the Deis client sends it (no credentials), from
`--concurrency` connections at once: 200 clusters checking in 5 times each, with 8 components.
Each cluster checks in from an address of its own (`X-Forwarded-For`, which the server trusts
from 127.0.0.1), so the per-address rate limit is counted on every check-in as in production;
`--one-address` sends them all from one address with the limit off instead. `--history N`
first gives each cluster N earlier check-ins (hourly, ending a day ago), as long-lived clusters
have: the derived history is an aggregate over all of them.
Prints p50/p99 and throughput of the check-ins and the server's CPU time per check-in (all
its processes, from /proc), checks that every one was recorded, then times
`GET /deis/v3/clusters/{id}` and `GET /deis/v3/clusters/age` over the result. Last, wrk
checks in for `--wrk-seconds` from `--concurrency` connections (the Python client costs more
CPU than the server does, so only wrk shows the server's throughput), and the check-ins
stored are compared with those answered.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import os
import re
import shutil
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import create_async_engine

from aerodrome.fleet.models import Cluster, ClusterCheckin
from harness import PASSWORD, create_database, drop_database, machine_line, run_wrk, start_server

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


async def add_history(url: str, per_cluster: int) -> None:
    """`per_cluster` past check-ins for each of the 200 clusters, interleaved in time."""
    start = datetime.now(UTC) - timedelta(days=1)
    rows = [
        {
            "cluster_id": f"cluster-{cluster:04d}",
            "checked_in_at": start - timedelta(hours=hour),
            "source_address": address(cluster)["X-Forwarded-For"],
            "components": checkin(cluster, 0)["components"],
        }
        for hour in range(per_cluster)
        for cluster in range(200)
    ]
    engine = create_async_engine(url)
    async with engine.begin() as connection:
        await connection.execute(insert(Cluster), [{"id": f"cluster-{i:04d}"} for i in range(200)])
        for chunk in range(0, len(rows), 10_000):
            await connection.execute(insert(ClusterCheckin), rows[chunk : chunk + 10_000])
    await engine.dispose()


def address(cluster: int) -> dict[str, str]:
    return {"X-Forwarded-For": f"10.0.{cluster // 256}.{cluster % 256}"}


async def hammer(
    base: str, total: int, concurrency: int, one_address: bool
) -> tuple[list[float], float]:
    requests = [
        (checkin(i % 200, i // 200), {} if one_address else address(i % 200)) for i in range(total)
    ]
    gate = asyncio.Semaphore(concurrency)
    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(base_url=base, timeout=60, limits=limits) as client:

        async def one(body: dict[str, Any], headers: dict[str, str]) -> float:
            async with gate:
                began = time.perf_counter()
                response = await client.post("/deis/v3/clusters", json=body, headers=headers)
                assert response.status_code == 200, response.text
                return (time.perf_counter() - began) * 1000

        began = time.perf_counter()
        timings = await asyncio.gather(*(one(b, h) for b, h in requests))
        return list(timings), time.perf_counter() - began


# wrk's check-ins: each thread walks the clusters from its own offset, one address each.
WRK_CHECKINS_LUA = """
local names = {NAMES}
local parts = {}
for _, name in ipairs(names) do
  parts[#parts + 1] = string.format(
    '{"component":{"name":"%s","description":"Deis Workflow %s"},' ..
    '"version":{"train":"stable","version":"v2.1.0"}}', name, name)
end
local components = table.concat(parts, ",")
local threads = 0
function setup(thread) threads = threads + 1; thread:set("tid", threads) end
local counter = 0
function request()
  counter = counter + 1
  local cluster = (counter * 7 + tid * 101) % 200
  local body = string.format('{"id":"cluster-%04d","firstSeen":"0001-01-01T00:00:00Z",' ..
    '"lastSeen":"0001-01-01T00:00:00Z","components":[%s]}', cluster, components)
  local headers = {["Content-Type"] = "application/json",
    ["X-Forwarded-For"] = string.format("10.0.%d.%d", math.floor(cluster / 256), cluster % 256)}
  return wrk.format("POST", "/deis/v3/clusters", headers, body)
end
local shown = 0
function response(status, headers, body)
  if status ~= 200 and shown < 3 then shown = shown + 1; print(status, body) end
end
""".replace("NAMES", ", ".join(f'"{name}"' for name in COMPONENTS))


def saturate(base: str, url: str, connections: int, seconds: int) -> None:
    """Check-ins from wrk for `seconds` (the Python client above costs more CPU than the
    server does), then the stored check-ins compared with the answered ones."""
    before = asyncio.run(count_checkins(url))
    figures, output = run_wrk(base + "/", {}, connections, seconds, WRK_CHECKINS_LUA)
    if figures["non_2xx"]:
        print(output)
    answered = re.search(r"(\d+) requests in", output)
    assert answered, output
    stored = asyncio.run(count_checkins(url)) - before
    # Requests still in flight when wrk stops are stored but not counted as answered.
    print(
        f"POST /deis/v3/clusters from wrk, {connections} connections, {seconds} s: "
        f"p50 {figures['p50']:.1f} ms  p99 {figures['p99']:.1f} ms  {figures['rps']:.0f} req/s  "
        f"non-2xx {figures['non_2xx']:.0f}; {answered.group(1)} answered, {stored} stored "
        f"(up to {connections} more: in flight at the end)"
    )


async def count_checkins(url: str) -> int:
    engine = create_async_engine(url)
    async with engine.connect() as connection:
        stored = await connection.scalar(select(func.count()).select_from(ClusterCheckin))
    await engine.dispose()
    return int(stored or 0)


def cpu_seconds(root: int) -> float:
    """User and system CPU time of `root` and its live descendants (the server's workers)."""
    parents: dict[int, int] = {}
    times: dict[int, float] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                # The command name may hold spaces: the fields after it are fixed.
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(entry)] = int(fields[1])
        times[int(entry)] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    tree, frontier = {root}, [root]
    while frontier:
        parent = frontier.pop()
        children = [pid for pid, ppid in parents.items() if ppid == parent]
        tree.update(children)
        frontier += children
    return sum(times.get(pid, 0.0) for pid in tree)


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
    parser.add_argument(
        "--one-address", action="store_true", help="all check-ins from one address, no limit"
    )
    parser.add_argument("--history", type=int, default=0, help="earlier check-ins per cluster")
    parser.add_argument(
        "--wrk-seconds", type=int, default=10, help="then check in from wrk this long (0: not)"
    )
    args = parser.parse_args()
    print(machine_line(), flush=True)
    data_dir = Path(tempfile.mkdtemp(prefix="aerodrome-bench-"))
    url = asyncio.run(create_database(args.database, data_dir))
    # One address sending every check-in would be refused after 60: no limit then.
    limit = {"AERODROME_DEIS_CHECKINS_PER_MINUTE": "0"} if args.one_address else {}
    server = start_server(url, data_dir, args.port, args.workers, limit)
    base = f"http://127.0.0.1:{args.port}"
    try:
        if args.history:
            asyncio.run(add_history(url, args.history))
        cpu_before = cpu_seconds(server.pid)
        timings, seconds = asyncio.run(
            hammer(base, args.checkins, args.concurrency, args.one_address)
        )
        cpu = cpu_seconds(server.pid) - cpu_before
        print(
            f"database={args.database} workers={args.workers} concurrency={args.concurrency} "
            f"addresses={1 if args.one_address else 200} history={args.history}"
        )
        show(f"POST /deis/v3/clusters x{args.checkins}", timings, seconds)
        print(f"server CPU per check-in: {cpu / args.checkins * 1000:.2f} ms")
        token = base64.b64encode(f"admin:{PASSWORD}".encode()).decode()
        admin = {"Authorization": f"Basic {token}"}
        count = httpx.get(f"{base}/deis/v3/clusters/count", headers=admin).json()
        one = httpx.get(f"{base}/api/v1/clusters/cluster-0007", headers=admin).json()
        recorded = one["cluster"]["checkins_count"]
        expected = args.history + args.checkins // 200
        print(f"clusters {count} (expected 200); cluster-0007 check-ins {recorded} ({expected})")
        show(
            "GET /deis/v3/clusters/{id}",
            serial(base, [f"/deis/v3/clusters/cluster-{i:04d}" for i in range(200)], admin),
        )
        age = "/deis/v3/clusters/age?checked_in_after=2000-01-01T00:00:00Z"
        show("GET /deis/v3/clusters/age (200 clusters)", serial(base, [age] * 50, admin))
        if args.wrk_seconds:
            saturate(base, url, args.concurrency, args.wrk_seconds)
    finally:
        server.terminate()
        server.wait(timeout=30)
        asyncio.run(drop_database(url))
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
