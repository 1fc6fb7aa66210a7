"""What every benchmark needs: a scratch database, `aerodrome serve` started as a user would,
and `wrk` with its figures parsed."""

from __future__ import annotations

import asyncio
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Mapping
from pathlib import Path

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

PASSWORD = "benchmark-password"
HERE = Path(__file__).resolve().parent
POSTGRES_ADMIN = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"


async def create_database(kind: str, data_dir: Path) -> str:
    """The URL of a new, empty database: a file in `data_dir`, or a PostgreSQL database."""
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


def machine_line() -> str:
    """How fast this machine is right now, printed above every benchmark's figures: machines of
    the same kind have given figures two to four times apart from one day to the next, and a
    figure means little without this. Two references: a fixed pure-Python loop (best of 3),
    and the mean round trip of `SELECT 1` to the local PostgreSQL, which also measures how fast
    one process wakes another (on a slow day it was 0.7 ms while the loop stayed at 150 ms)."""
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        total = 0
        for number in range(2_000_000):
            total += number
        best = min(best, time.perf_counter() - started)
    return (
        f"machine: {os.cpu_count()} CPUs; reference loop (2M additions) {best * 1000:.0f} ms; "
        f"PostgreSQL SELECT 1 round trip {asyncio.run(_postgres_round_trip_ms()):.3f} ms"
    )


async def _postgres_round_trip_ms(rounds: int = 1000) -> float:
    engine = create_async_engine(POSTGRES_ADMIN)
    async with engine.connect() as connection:
        raw = (await connection.get_raw_connection()).driver_connection
        assert raw is not None
        for _ in range(50):  # warm-up
            await raw.fetchval("SELECT 1")
        started = time.perf_counter()
        for _ in range(rounds):
            await raw.fetchval("SELECT 1")
        elapsed = time.perf_counter() - started
    await engine.dispose()
    return elapsed / rounds * 1000


def free_port() -> int:
    # Other benchmarks or test runs may be serving: never share a port with them.
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(
    url: str, data_dir: Path, port: int, workers: int, settings: Mapping[str, str] = {}
) -> subprocess.Popen[bytes]:
    """`aerodrome serve` on `url`, once it answers `/healthz`; `settings` are extra
    `AERODROME_*` variables."""
    env = {
        **os.environ,
        "AERODROME_DATABASE_URL": url,
        "AERODROME_DATA_DIR": str(data_dir),
        "AERODROME_PORT": str(port),
        "AERODROME_WORKERS": str(workers),
        "AERODROME_ADMIN_PASSWORD": PASSWORD,
        "AERODROME_LOG_LEVEL": "warning",
        **settings,
    }
    command = [sys.executable, "-m", "aerodrome", "serve"]
    # The server's log goes to a file: an unread pipe would fill up and stall the server.
    with open(data_dir / "server.log", "wb") as log:
        process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=log)
    _wait_until_answering(f"http://127.0.0.1:{port}/healthz", process, data_dir / "server.log")
    return process


def floor_line(connections: int = 32, seconds: int = 10, workers: int = 2) -> str:
    """The figures of `floor_app` (a bare FastAPI route on uvicorn) measured as the benchmarks
    measure `aerodrome serve`: what this machine gives any request of this stack right now.
    A target beyond the floor cannot be met by tuning Aerodrome; a p99 over one connection
    near the floor's is the machine's scheduling noise, not the request's cost."""
    port = free_port()
    command = [sys.executable, "-m", "uvicorn", "floor_app:app", "--app-dir", str(HERE)]
    command += ["--port", str(port), "--workers", str(workers)]
    command += ["--log-level", "warning", "--no-access-log"]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/floor"
    try:
        _wait_until_answering(url, server)
        wrk(url, {}, connections, 2)  # warm-up
        saturated = wrk(url, {}, connections, seconds)
        single = one_connection(url, {})
    finally:
        server.terminate()
        server.wait(timeout=30)
    return (
        f"floor (bare FastAPI route on uvicorn, {workers} workers, no database): "
        f"{saturated['rps']:.0f} req/s, p50 {saturated['p50']:.2f} ms, "
        f"p99 {saturated['p99']:.2f} ms at {connections} connections; {one_connection_line(single)}"
    )


def _wait_until_answering(
    url: str, process: subprocess.Popen[bytes], log: Path | None = None
) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"{url} did not answer within 90 s" + (f"; see {log}" if log else ""))


def run_wrk(
    url: str,
    headers: Mapping[str, str],
    connections: int,
    seconds: int,
    script: str = "",
    pause_ms: int = 0,
) -> tuple[dict[str, float], str]:
    """wrk's p50/p90/p99 (ms), req/s and non-2xx count, and its whole output; `script` is
    the text of a Lua script (for POSTs and signed requests).

    With `pause_ms`, each connection waits a random 0 to 2 * `pause_ms` (`pause_ms` on
    average) after every answer before its next request, as polling clients do: the latency
    then shows the cost of a request at that load rather than the queue in front of a
    saturated server. The pause is random because a fixed one keeps all connections in step:
    they start together, so they would send in bursts of 32 for the whole run, and every
    request would wait behind its burst (components list: p50 25 ms with a fixed 100 ms
    pause, 4 to 5 ms with random pauses, at the same 260 to 300 req/s)."""
    if pause_ms:
        script += f"\nfunction delay() return math.random(0, {2 * int(pause_ms)}) end\n"
    threads = str(min(2, connections))
    command = ["wrk", "--latency", "-t", threads, "-c", str(connections), "-d", f"{seconds}s"]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as lua:
        lua.write(script)
    if script:
        command += ["-s", lua.name]
    try:
        output = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    finally:
        os.unlink(lua.name)
    rate = re.search(r"Requests/sec:\s+([\d.]+)", output)
    assert rate, output
    figures = {"rps": float(rate.group(1))}
    patterns = {f"p{p}": rf"^\s+{p}%\s+" for p in ("50", "90", "99")} | {"mean": r"Latency\s+"}
    for name, pattern in patterns.items():
        found = re.search(pattern + r"([\d.]+)(us|ms|s)", output, re.M)
        assert found, output
        scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[found.group(2)]
        figures[name] = float(found.group(1)) * scale
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    figures["non_2xx"] = float(errors.group(1)) if errors else 0.0
    return figures, output


def wrk(
    url: str,
    headers: Mapping[str, str],
    connections: int,
    seconds: int,
    script: str = "",
    pause_ms: int = 0,
) -> dict[str, float]:
    return run_wrk(url, headers, connections, seconds, script, pause_ms)[0]


def one_connection(
    url: str, headers: Mapping[str, str], seconds: int = 5, script: str = ""
) -> dict[str, float]:
    """wrk's figures over a single connection: the service time, without a queue. wrk rather
    than a Python client, whose own overhead (2 to 3 ms a request with httpx) would be counted."""
    return wrk(url, headers, 1, seconds, script)


def one_connection_line(figures: Mapping[str, float]) -> str:
    return (
        f"one connection: p50 {figures['p50']:.2f} ms  p99 {figures['p99']:.2f} ms  "
        f"mean {figures['mean']:.2f} ms"
    )
