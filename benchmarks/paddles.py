"""Load 20,000 paddles runs of 50 jobs (1,000,000 jobs) into PostgreSQL and measure the façade.

    .venv/bin/python benchmarks/paddles.py                 # the issue's size
    .venv/bin/python benchmarks/paddles.py --runs 2000     # a tenth, on a small machine

Needs `wrk` (Debian package `wrk`). The data set is built inside PostgreSQL with
`generate_series` (set-based, no row goes through Python), with counters consistent with the
jobs, plus one run of 300 jobs. Figures, Basic-authenticated, at `--connections` connections:
`GET /paddles/runs/` (the latest 100), `GET` and `HEAD /paddles/runs/<300-job run>/` (the GET
also with `Accept-Encoding: gzip`, as teuthology and browsers send it), a chained
filter, the throughput of job writes (each connection alternates a job POST and its PUT,
spread over 64 runs as concurrent teuthology workers do), and the runs list again while jobs
are being written (few of its answers can then be given from memory).

`AERODROME_RESPONSE_CACHE_BYTES=0` in the environment measures the server keeping no answers.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import concurrent.futures
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

import httpx
from sqlalchemy import text

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
    run_wrk,
    start_server,
    wrk,
)

BIG_RUN = "teuthology-2025-01-01_00:00:00-rados-main-distro-default-smithi-big"
CHAINED = "/paddles/runs/branch/main/suite/rados/machine_type/smithi/"

RUNS_SQL = """
INSERT INTO runs (id, name, status, "user", branch, suite, machine_type, sha1, flavor, priority,
                  scheduled, started, data, queued, waiting, running, pass, fail, dead, unknown,
                  total, created_at, updated_at, etag, state)
SELECT gen_random_uuid(),
       format('teuthology-%s-%s-%s-distro-default-%s-%s',
              to_char(ts, 'YYYY-MM-DD_HH24:MI:SS'), suite, branch, machine_type, i),
       'finished fail', 'teuthology', branch, suite, machine_type, md5(i::text), 'default', 100,
       ts, ts, '{}'::jsonb, 0, 0, 0, 45, 4, 1, 0, 50, ts, ts, md5(i::text), 'active'
FROM (SELECT i,
             timestamptz '2024-01-01' + i * interval '15 minutes' AS ts,
             (ARRAY['rados', 'rbd', 'fs', 'rgw', 'upgrade'])[1 + i % 5] AS suite,
             (ARRAY['main', 'reef', 'squid', 'quincy'])[1 + (i / 5) % 4] AS branch,
             (ARRAY['smithi', 'mira', 'gibba'])[1 + i % 3] AS machine_type
      FROM generate_series(0, CAST(:runs AS integer) - 1) AS i) AS s
"""
JOBS_SQL = """
INSERT INTO jobs (id, status, priority, tags, run_id, run_job_id, branch, suite, sha1,
                  machine_type, os_type, os_version, description, owner, posted, started,
                  duration, data, created_at, updated_at, etag, state)
SELECT gen_random_uuid(),
       CASE WHEN j <= 45 THEN 'success' WHEN j <= 49 THEN 'failure' ELSE 'dead' END,
       100, '[]'::jsonb, r.id, j::text, r.branch, r.suite, r.sha1, r.machine_type, 'ubuntu',
       '22.04', 'rados/basic/{clusters/fixed-2.yaml tasks/rados_api_tests.yaml} ' || j,
       'scheduled_teuthology@teuthology', r.created_at, r.created_at, 1800 + j,
       jsonb_build_object(
           'archive_path', '/archive/' || r.name || '/' || j,
           'pid', 1000 + j,
           'teuthology_branch', 'main',
           'targets', jsonb_build_object('ubuntu@smithi' || j || '.front', 'ssh-ed25519 AAAA'),
           'tasks', jsonb_build_array(jsonb_build_object('install', null),
                                      jsonb_build_object('ceph', null)),
           'overrides', jsonb_build_object('ceph', jsonb_build_object('log-ignorelist',
                                           jsonb_build_array('slow request'))),
           'failure_reason', CASE WHEN j BETWEEN 46 AND 49 THEN 'Command failed' END),
       r.created_at + j * interval '1 second', r.created_at + j * interval '1 second',
       md5(r.name || j), 'active'
FROM runs AS r CROSS JOIN generate_series(1, CAST(:jobs AS integer)) AS j
WHERE r.total = CAST(:jobs AS integer)
"""


async def load(url: str, runs: int) -> None:
    await upgrade(url)
    database = Database(Settings(database_url=url))
    async with database.unit_of_work() as session:
        await identity_service.ensure_admin(session, PASSWORD)
    async with database.unit_of_work() as session:
        await session.execute(text(RUNS_SQL), {"runs": runs})
        await session.execute(text(JOBS_SQL), {"jobs": 50})
    big = RUNS_SQL.replace(
        "generate_series(0, CAST(:runs AS integer) - 1)",
        "generate_series(CAST(:runs AS integer), CAST(:runs AS integer))",
    )
    async with database.unit_of_work() as session:
        await session.execute(text(big), {"runs": runs})
        await session.execute(
            text(
                "UPDATE runs SET name = :name, total = 300, pass = 45, fail = 4, dead = 251 "
                "WHERE name LIKE '%-' || :index"
            ),
            {"name": BIG_RUN, "index": str(runs)},
        )
        await session.execute(text(JOBS_SQL), {"jobs": 300})
    autocommit = database.engine.execution_options(isolation_level="AUTOCOMMIT")
    for statement in ("VACUUM ANALYZE runs", "VACUUM ANALYZE jobs", "CHECKPOINT"):
        async with autocommit.connect() as connection:
            await connection.exec_driver_sql(statement)
    await database.dispose()


# Half the requests POST a new job, half PUT one of the jobs posted before the measurement
# (requests of one wrk thread share this state, so a PUT never depends on an unanswered POST).
WRITES_LUA = """
local prefix = "PREFIX"
local counter = 0
local threads = 0
function setup(thread) threads = threads + 1; thread:set("tid", threads) end
function request()
  counter = counter + 1
  local run = "bench-writes-" .. (counter % 64)
  local base = "/paddles/runs/" .. run .. "/jobs/"
  if counter % 2 == 0 then
    local status = (math.floor(counter / 2) % 2 == 0) and "pass" or "running"
    return wrk.format("PUT", base .. "w" .. (counter % 16) .. "/", nil,
      '{"status": "' .. status .. '", "duration": 12}')
  end
  return wrk.format("POST", base, nil,
    '{"job_id": "' .. prefix .. tid .. '-' .. counter .. '", "status": "running", ' ..
    '"machine_type": "smithi", "description": "bench", ' ..
    '"targets": {"ubuntu@smithi001.front": "ssh-ed25519 A"}}')
end
local shown = 0
function response(status, headers, body)
  if status >= 300 and shown < 3 then shown = shown + 1; print(status, body) end
end
"""


async def seed_write_runs(base: str, headers: dict[str, str]) -> None:
    """64 runs of 16 jobs for the PUTs of the write measurement."""
    limits = httpx.Limits(max_connections=16)
    async with httpx.AsyncClient(base_url=base, headers=headers, limits=limits, timeout=60) as http:
        for job in range(16):
            posts = [
                http.post(f"/paddles/runs/bench-writes-{run}/jobs/", json={"job_id": f"w{job}"})
                for run in range(64)
            ]
            for response in await asyncio.gather(*posts):
                response.raise_for_status()


def show(label: str, figures: dict[str, float]) -> None:
    print(
        f"{label}: p50 {figures['p50']:.2f} ms  p99 {figures['p99']:.2f} ms  "
        f"{figures['rps']:.0f} req/s  non-2xx {figures['non_2xx']:.0f}",
        flush=True,
    )


def report(args: argparse.Namespace, base: str) -> None:
    token = base64.b64encode(f"admin:{PASSWORD}".encode()).decode()
    basic = {"Authorization": f"Basic {token}"}
    seconds, connections = args.seconds, args.connections
    print(
        f"runs={args.runs} jobs={args.runs * 50 + 300} workers={args.workers} "
        f"connections={connections}",
        flush=True,
    )
    wrk(base + "/paddles/runs/", basic, connections, 3)  # warm-up: every worker has the login
    pause = args.pause_ms
    for label, path in (
        ("GET /paddles/runs/ (100 runs)", "/paddles/runs/"),
        (f"GET {CHAINED}", CHAINED),
    ):
        show(label, wrk(base + path, basic, connections, seconds))
        paced = wrk(base + path, basic, connections, seconds, pause_ms=pause)
        show(f"{label}, each connection pausing {pause} ms on average", paced)
    big = f"{base}/paddles/runs/{BIG_RUN}/"
    show("GET /paddles/runs/<300-job run>/", wrk(big, basic, connections, seconds))
    gzip = {**basic, "Accept-Encoding": "gzip"}  # as teuthology (requests) and browsers ask
    show("GET /paddles/runs/<300-job run>/, gzip", wrk(big, gzip, connections, seconds))
    head = 'wrk.method = "HEAD"'
    show("HEAD /paddles/runs/<run>/", wrk(big, basic, connections, seconds, head))
    for label, path, headers, script in [
        ("GET /paddles/runs/", "/paddles/runs/", basic, ""),
        ("GET <300-job run>", f"/paddles/runs/{BIG_RUN}/", basic, ""),
        ("GET <300-job run>, gzip", f"/paddles/runs/{BIG_RUN}/", gzip, ""),
        ("HEAD <run>", f"/paddles/runs/{BIG_RUN}/", basic, head),
        ("GET chained filter", CHAINED, basic, ""),
    ]:
        figures = one_connection(base + path, headers, script=script)
        print(f"{label}, {one_connection_line(figures)}", flush=True)
    asyncio.run(seed_write_runs(base, basic))
    json_headers = {**basic, "Content-Type": "application/json"}
    writes, output = run_wrk(base + "/", json_headers, connections, seconds, _writes("a"))
    show("job POST+PUT (64 runs)", writes)
    if writes["non_2xx"]:
        failed = [line for line in output.splitlines() if re.match(r"^[345]\d\d\t", line)]
        print("first failed writes:", *failed, sep="\n", flush=True)
    reads_while_writing(args, base, basic)


def _writes(prefix: str) -> str:
    """The write script, posting job ids of its own (`prefix`) so that it may run again."""
    return WRITES_LUA.replace('"PREFIX"', f'"{prefix}"')


def reads_while_writing(args: argparse.Namespace, base: str, basic: dict[str, str]) -> None:
    """`GET /paddles/runs/` at full load while 4 teuthology-like writers post and update jobs,
    each pausing 20 ms on average: every write changes `jobs` and `runs`, so most answers are
    computed afresh rather than given from memory (docs/decisions/0011-kept-answers.md)."""
    json_headers = {**basic, "Content-Type": "application/json"}
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        writing = pool.submit(
            wrk, base + "/", json_headers, 4, args.seconds, _writes("b"), pause_ms=20
        )
        reading = pool.submit(wrk, base + "/paddles/runs/", basic, args.connections, args.seconds)
        show("GET /paddles/runs/ while jobs are written", reading.result())
        show("  the job writes meanwhile (4 connections, 20 ms pauses)", writing.result())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20_000)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--port", type=int, default=8766)
    parser.add_argument(
        "--pause-ms", type=int, default=100, help="mean pause of each client in the paced runs"
    )
    args = parser.parse_args()
    print(machine_line(), flush=True)
    if shutil.which("wrk") is None:
        sys.exit("wrk is required: apt-get install wrk")
    print(floor_line(args.connections, args.seconds, args.workers), flush=True)
    data_dir = Path(tempfile.mkdtemp(prefix="aerodrome-bench-"))
    url = asyncio.run(create_database("postgresql", data_dir))
    try:
        started = time.perf_counter()
        asyncio.run(load(url, args.runs))
        print(f"loaded {args.runs} runs in {time.perf_counter() - started:.1f} s", flush=True)
        server = start_server(
            url, data_dir, args.port, args.workers, {"AERODROME_DB_POOL_SIZE": "20"}
        )
        try:
            report(args, f"http://127.0.0.1:{args.port}")
        finally:
            server.terminate()
            server.wait(timeout=30)
    finally:
        asyncio.run(drop_database(url))
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
