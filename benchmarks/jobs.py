"""Load 1,000,000 DCI jobs on PostgreSQL and measure the job list and the scheduler.

    .venv/bin/python benchmarks/jobs.py                 # 1,000,000 jobs
    .venv/bin/python benchmarks/jobs.py --jobs 200000   # a smaller run

The data set is built with set-based INSERT … SELECT over generate_series: 100 teams, each with
10 remotecis and a user; a product open to every team; a topic needing `ocp`, `storage` and `cnv`
with 1,000 components of each; `--jobs` jobs (spread over the teams' remotecis) with 3
components and 5 job states each; 20 job definitions on the topic.

Measured with `wrk` (Debian package `wrk`) against `aerodrome serve`, at `--connections`,
each figure twice: saturated (every connection sends its next request at once) and paced
(each connection pauses `--pause-ms` between requests, as polling agents do):
- `GET /api/v1/jobs?limit=20&embed=topic,remoteci,team,components`, Basic-authenticated, as a
  member of one team (what dciclient's users and agents ask) and as the super admin (every job:
  the count covers all of them);
- `POST /api/v1/jobs/schedule` signed by the remotecis (DCI2-HMAC-SHA256, headers signed once
  per remoteci before the run, valid for 15 minutes), with a `topic_id` (the newest component of
  each type) and without one (the most urgent job definition not yet run: a claim per request).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import json
import re
import shutil
import sys
import tempfile
import time
import uuid
from pathlib import Path

from dciauth.v2.headers import generate_headers
from sqlalchemy import text

from aerodrome.db.migrate import upgrade
from aerodrome.db.session import Database
from aerodrome.identity import service as identity_service
from aerodrome.identity.principal import Identity
from aerodrome.identity.schemas import UserCreate
from aerodrome.settings import Settings
from harness import (
    PASSWORD,
    create_database,
    drop_database,
    floor_line,
    free_port,
    machine_line,
    one_connection,
    one_connection_line,
    start_server,
    wrk,
)

TEAMS, REMOTECIS_PER_TEAM, COMPONENTS_PER_TYPE, DEFINITIONS = 100, 10, 1000, 20
TYPES = ("ocp", "storage", "cnv")
LIST = "/api/v1/jobs?limit=20&embed=topic,remoteci,team,components"
SCHEDULE = "/api/v1/jobs/schedule"


def _uuid(kind: str, n: int | str = "") -> uuid.UUID:
    """The id the SQL below gives row `n` of `kind`: md5(kind || n)::uuid."""
    return uuid.UUID(hashlib.md5(f"{kind}{n}".encode()).hexdigest())  # noqa: S324 (an id)


# Every statement is one INSERT … SELECT; ids are md5(kind || n)::uuid so that the tables can
# refer to each other without a round trip.
SEED = [
    """INSERT INTO teams (id, name, reads_all, external, created_at, updated_at, etag, state)
       SELECT md5('team' || t)::uuid, 'team-' || t, false, true, now(), now(), md5('e' || t),
              'active'
       FROM generate_series(0, :teams - 1) t""",
    """INSERT INTO remotecis (id, name, team_id, api_secret, public, data, created_at,
                              updated_at, etag, state)
       SELECT md5('rci' || r)::uuid, 'rci-' || r, md5('team' || (r % :teams))::uuid,
              'secret-' || r, false, '{}'::jsonb, now(), now(), md5('r' || r), 'active'
       FROM generate_series(0, :teams * :per_team - 1) r""",
    """INSERT INTO products (id, name, label, description, created_at, updated_at, etag, state)
       VALUES (md5('product')::uuid, 'OpenShift', '', '', now(), now(), 'x', 'active')""",
    """INSERT INTO product_teams (product_id, team_id)
       SELECT md5('product')::uuid, md5('team' || t)::uuid FROM generate_series(0, :teams - 1) t""",
    """INSERT INTO topics (id, name, product_id, component_types, export_control, data,
                           created_at, updated_at, etag, state)
       VALUES (md5('topic')::uuid, 'OCP-4.16', md5('product')::uuid,
               '["ocp", "storage", "cnv"]'::jsonb, false, '{}'::jsonb, now(), now(), 'x',
               'active')""",
    """INSERT INTO components (id, name, type, version, train, data, tags, topic_id,
                               created_at, updated_at, etag, state)
       SELECT md5('comp-' || p || '-' || n)::uuid,
              (ARRAY['ocp','storage','cnv'])[p + 1] || '-' || n,
              (ARRAY['ocp','storage','cnv'])[p + 1], '4.16.' || n, '', '{}'::jsonb, '[]'::jsonb,
              md5('topic')::uuid, now() - (:per_type - n) * interval '1 hour',
              now(), md5('c' || p || n), 'active'
       FROM generate_series(0, 2) p, generate_series(0, :per_type - 1) n""",
    """INSERT INTO jobdefinitions (id, name, topic_id, component_types, tests, priority, data,
                                   created_at, updated_at, etag, state)
       SELECT md5('jd' || d)::uuid, 'definition-' || d, md5('topic')::uuid, '[]'::jsonb,
              '[]'::jsonb, d % 5, '{}'::jsonb, now() - d * interval '1 minute', now(),
              md5('d' || d), 'active'
       FROM generate_series(0, :definitions - 1) d""",
    """INSERT INTO jobs (id, name, status, team_id, remoteci_id, topic_id, product_id, priority,
                         tags, data, posted, started, duration, created_at, updated_at, etag,
                         state)
       SELECT md5('job' || g)::uuid, 'job-' || (g % 50),
              (ARRAY['success','failure','error','killed','success'])[g % 5 + 1],
              md5('team' || (g % :teams))::uuid,
              md5('rci' || (g % (:teams * :per_team)))::uuid,
              md5('topic')::uuid, md5('product')::uuid, 0, '[]'::jsonb, '{}'::jsonb,
              now() - (:jobs - g) * interval '1 second',
              now() - (:jobs - g) * interval '1 second', 3600,
              now() - (:jobs - g) * interval '1 second',
              now() - (:jobs - g) * interval '1 second', md5('j' || g), 'active'
       FROM generate_series(1, :jobs) g""",
    """INSERT INTO job_components (job_id, component_id, position)
       SELECT md5('job' || g)::uuid, md5('comp-' || p || '-' || (g % :per_type))::uuid, p
       FROM generate_series(1, :jobs) g, generate_series(0, 2) p""",
    """INSERT INTO jobstates (id, created_at, job_id, team_id, status, comment)
       SELECT md5('js' || g || '-' || s)::uuid,
              now() - (:jobs - g) * interval '1 second' + s * interval '1 minute',
              md5('job' || g)::uuid, md5('team' || (g % :teams))::uuid,
              (ARRAY['new','pre-run','running','post-run','success'])[s + 1], NULL
       FROM generate_series(1, :jobs) g, generate_series(0, 4) s""",
]


async def load(url: str, jobs: int) -> None:
    await upgrade(url)
    database = Database(Settings(database_url=url))
    async with database.unit_of_work() as session:
        await identity_service.ensure_admin(session, PASSWORD)
    params = {
        "teams": TEAMS,
        "per_team": REMOTECIS_PER_TEAM,
        "per_type": COMPONENTS_PER_TYPE,
        "definitions": DEFINITIONS,
        "jobs": jobs,
    }
    for statement in SEED:
        started = time.perf_counter()
        async with database.unit_of_work() as session:
            # The sizes are integers of ours, written into the SQL: asyncpg cannot type a
            # parameter used in arithmetic (`$1 * $2`).
            sql = re.sub(r"(?<!:):(\w+)", lambda m: str(int(params[m.group(1)])), statement)
            await session.execute(text(sql))
        print(f"  {statement.split()[2]:<16} {time.perf_counter() - started:6.1f} s", flush=True)
    # A member of team-7 for the team-scoped list.
    async with database.unit_of_work() as session:
        await identity_service.user_service.create(
            session,
            Identity(kind="user", id=None, name="loader", is_super_admin=True),
            UserCreate(name="member", password=PASSWORD, team_ids=[_uuid("team", 7)]),
        )
    autocommit = database.engine.execution_options(isolation_level="AUTOCOMMIT")
    for statement in ("VACUUM ANALYZE", "CHECKPOINT"):
        async with autocommit.connect() as connection:
            await connection.exec_driver_sql(statement)
    await database.dispose()


def signed_headers(host: str, remotecis: range, data: str) -> list[dict[str, str]]:
    """Signature headers of a schedule request with body `data`, one set per remoteci."""
    return [
        {
            **generate_headers(
                {"method": "POST", "endpoint": SCHEDULE, "params": {}, "host": host, "data": data},
                {"access_key": f"remoteci/{_uuid('rci', r)}", "secret_key": f"secret-{r}"},
            ),
            "Content-Type": "application/json",
        }
        for r in remotecis
    ]


def schedule_script(signed: list[dict[str, str]], data: str) -> str:
    """A wrk Lua script POSTing `data` to the scheduler, signed by each remoteci in turn."""
    tables = [
        "{ " + ", ".join(f'["{k}"] = "{v}"' for k, v in headers.items()) + " }"
        for headers in signed
    ]
    return (
        "local signed = {\n" + ",\n".join(tables) + "\n}\n"
        "local i = 0\n"
        "request = function()\n"
        "  i = i % #signed + 1\n"
        f"  return wrk.format('POST', '{SCHEDULE}', signed[i], {json.dumps(data)})\n"
        "end\n"
    )


def _line(label: str, figures: dict[str, float], single: dict[str, float]) -> str:
    return (
        f"{label}: p50 {figures['p50']:.2f} ms  p90 {figures['p90']:.2f} ms  "
        f"p99 {figures['p99']:.2f} ms  {figures['rps']:.0f} req/s  "
        f"non-2xx {figures['non_2xx']:.0f}; {one_connection_line(single)}"
    )


def _paced_line(label: str, figures: dict[str, float], pause_ms: int) -> str:
    return (
        f"{label}, each connection pausing {pause_ms} ms on average: p50 {figures['p50']:.2f} ms  "
        f"p90 {figures['p90']:.2f} ms  p99 {figures['p99']:.2f} ms  {figures['rps']:.0f} req/s"
    )


def report(args: argparse.Namespace, base: str, port: int) -> None:
    print(f"jobs={args.jobs} workers={args.workers} connections={args.connections}")
    for login in ("member", "admin"):
        token = base64.b64encode(f"{login}:{PASSWORD}".encode()).decode()
        basic = {"Authorization": f"Basic {token}"}
        wrk(base + LIST, basic, args.connections, 3)  # warm-up: the workers remember the login
        figures = wrk(base + LIST, basic, args.connections, args.seconds)
        single = one_connection(base + LIST, basic)
        print(_line(f"GET {LIST} as {login}", figures, single), flush=True)
        paced = wrk(base + LIST, basic, args.connections, args.seconds, pause_ms=args.pause_ms)
        print(_paced_line(f"GET {LIST} as {login}", paced, args.pause_ms), flush=True)
    host = f"127.0.0.1:{port}"
    remotecis = range(TEAMS * REMOTECIS_PER_TEAM)
    for label, body in (("with topic_id", {"topic_id": str(_uuid("topic"))}), ("without", {})):
        data = json.dumps(body)
        signed = signed_headers(host, remotecis, data)
        script = schedule_script(signed, data)
        figures = wrk(base + SCHEDULE, {}, args.connections, args.seconds, script)
        single = one_connection(base + SCHEDULE, {}, script=script)
        print(_line(f"POST {SCHEDULE} {label}", figures, single), flush=True)
        paced = wrk(base + SCHEDULE, {}, args.connections, args.seconds, script, args.pause_ms)
        print(_paced_line(f"POST {SCHEDULE} {label}", paced, args.pause_ms), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=1_000_000)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--port", type=int, default=0, help="0: any free port")
    parser.add_argument("--pool-size", type=int, default=10, help="connections per worker")
    parser.add_argument("--keep", action="store_true", help="keep the database, print its URL")
    parser.add_argument("--reuse", metavar="URL", help="measure a database kept with --keep")
    parser.add_argument(
        "--pause-ms", type=int, default=100, help="mean pause of each client in the paced runs"
    )
    args = parser.parse_args()
    print(machine_line(), flush=True)
    if shutil.which("wrk") is None:
        sys.exit("wrk is required: apt-get install wrk")
    print(floor_line(args.connections, args.seconds, args.workers), flush=True)
    data_dir = Path(tempfile.mkdtemp(prefix="aerodrome-bench-"))
    url = args.reuse or asyncio.run(create_database("postgresql", data_dir))
    try:
        if not args.reuse:
            started = time.perf_counter()
            asyncio.run(load(url, args.jobs))
            print(f"loaded {args.jobs} jobs in {time.perf_counter() - started:.1f} s", flush=True)
        port = args.port or free_port()
        server = start_server(
            url, data_dir, port, args.workers, {"AERODROME_DB_POOL_SIZE": str(args.pool_size)}
        )
        try:
            report(args, f"http://127.0.0.1:{port}", port)
        finally:
            server.terminate()
            server.wait(timeout=30)
    finally:
        if args.keep or args.reuse:
            print(f"database kept: {url}")
        else:
            asyncio.run(drop_database(url))
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
