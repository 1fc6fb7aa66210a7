"""Upload a 10,000-testcase JUnit file to `aerodrome serve`: streamed, stored, parsed, its
cases inserted and compared with the previous job's (regressions and fixes), one request.

    .venv/bin/python benchmarks/junit_upload.py --database sqlite
    .venv/bin/python benchmarks/junit_upload.py --database postgresql

Each upload goes to a new job of the same remoteci, topic, name and configuration, so every
upload after the first is compared with a previous result of 10,000 cases. Prints the wall
time of each upload as the client sees it (p50, p99, max) and the size of the file.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from sqlalchemy import insert

from aerodrome.db.migrate import upgrade
from aerodrome.db.session import Database
from aerodrome.identity import service as identity_service
from aerodrome.settings import Settings
from aerodrome.work.models import Job

# Run as a script, this directory is on sys.path: the other benchmark's helpers are shared.
from harness import PASSWORD, create_database, drop_database, free_port, machine_line, start_server


def junit_document(cases: int, seed: int) -> bytes:
    """`cases` test cases in 20 suites; about 2 % fail, which ones depends on `seed`."""
    parts = ['<?xml version="1.0" encoding="UTF-8"?><testsuites>']
    for suite in range(20):
        parts.append(f'<testsuite name="suite-{suite}" tests="{cases // 20}">')
        for i in range(cases // 20):
            number = suite * (cases // 20) + i
            failed = (number * 7 + seed) % 50 == 0
            outcome = (
                f'<failure message="assertion failed" type="AssertionError">'
                f"Traceback (most recent call last):\n  case {number}\nAssertionError</failure>"
                if failed
                else ""
            )
            parts.append(
                f'<testcase classname="tempest.api.compute.test_{suite}.Tests" '
                f'name="test_case_{number}[id-{number:08x},smoke]" time="0.{number % 97:03d}">'
                f"{outcome}</testcase>"
            )
        parts.append("</testsuite>")
    parts.append("</testsuites>")
    return "".join(parts).encode()


async def prepare(url: str) -> None:
    """The schema and the admin user."""
    await upgrade(url)
    database = Database(Settings(database_url=url))
    async with database.unit_of_work() as session:
        await identity_service.ensure_admin(session, PASSWORD)
    await database.dispose()


async def create_jobs(url: str, team: str, remoteci: str, topic: str, count: int) -> list[str]:
    database = Database(Settings(database_url=url))
    start = datetime.now(UTC) - timedelta(hours=count)
    rows = [
        {
            "id": uuid.uuid4(),
            "created_at": start + timedelta(hours=i),
            "updated_at": start + timedelta(hours=i),
            "etag": uuid.uuid4().hex,
            "state": "active",
            "name": "tempest",
            "status": "running",
            "configuration": "ovn",
            "team_id": uuid.UUID(team),
            "remoteci_id": uuid.UUID(remoteci),
            "topic_id": uuid.UUID(topic),
            "tags": [],
            "data": {},
        }
        for i in range(count)
    ]
    async with database.unit_of_work() as session:
        await session.execute(insert(Job.__table__), rows)
    await database.dispose()
    return [str(row["id"]) for row in rows]


def world(base: str, headers: dict[str, str]) -> tuple[str, str, str]:
    with httpx.Client(base_url=base, headers=headers) as http:
        team = http.post("/api/v1/teams", json={"name": "bench"}).json()["team"]["id"]
        remoteci = http.post("/api/v1/remotecis", json={"name": "ci", "team_id": team})
        topic = http.post("/api/v1/topics", json={"name": "RHEL-9", "component_types": []})
        return team, remoteci.json()["remoteci"]["id"], topic.json()["topic"]["id"]


def upload_all(base: str, headers: dict[str, str], jobs: list[str], cases: int) -> list[float]:
    timings = []
    with httpx.Client(base_url=base, headers=headers, timeout=60) as http:
        for index, job_id in enumerate(jobs):
            body = junit_document(cases, seed=index)
            sent = {
                "DCI-NAME": "tempest.xml",
                "DCI-JOB-ID": job_id,
                "DCI-MIME": "application/junit",
            }
            started = time.perf_counter()
            response = http.post("/api/v1/files", content=body, headers=sent)
            timings.append(time.perf_counter() - started)
            assert response.status_code == 201, response.text
        results = http.get(f"/api/v1/jobs/{jobs[-1]}/results").json()["results"][0]
        print(
            f"last upload: {len(body) / 1e6:.1f} MB, total={results['total']} "
            f"failures={results['failures']} regressions={results['regressions']} "
            f"successfixes={results['successfixes']}"
        )
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--uploads", type=int, default=20)
    args = parser.parse_args()
    print(machine_line(), flush=True)
    data_dir = Path(tempfile.mkdtemp(prefix="aerodrome-bench-"))
    url = asyncio.run(create_database(args.database, data_dir))
    port = free_port()
    try:
        asyncio.run(prepare(url))
        server = start_server(url, data_dir, port, 1)
        try:
            base = f"http://127.0.0.1:{port}"
            token = base64.b64encode(f"admin:{PASSWORD}".encode()).decode()
            headers = {"Authorization": f"Basic {token}"}
            team, remoteci, topic = world(base, headers)
            jobs = asyncio.run(create_jobs(url, team, remoteci, topic, args.uploads))
            timings = sorted(upload_all(base, headers, jobs, args.cases))
        finally:
            server.terminate()
            server.wait(timeout=30)
    finally:
        asyncio.run(drop_database(url))
    p99 = timings[min(len(timings) - 1, int(len(timings) * 0.99))]
    print(
        f"{args.database}: {len(timings)} uploads of {args.cases} test cases: "
        f"p50={statistics.median(timings) * 1000:.0f} ms p99={p99 * 1000:.0f} ms "
        f"max={timings[-1] * 1000:.0f} ms min={timings[0] * 1000:.0f} ms"
    )


if __name__ == "__main__":
    main()
