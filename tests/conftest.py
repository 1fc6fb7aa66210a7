"""Fixtures: every database test runs on SQLite and on PostgreSQL, on a schema built by the
migrations. Rows are removed after each test (instead of a rolled-back transaction) because
several tests drive real concurrent clients that must see each other's commits."""

from __future__ import annotations

import asyncio
import base64
import logging
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import delete, insert, select, text
from sqlalchemy.ext.asyncio import create_async_engine

from aerodrome.app import create_app
from aerodrome.db import migrate
from aerodrome.db.changes import TableChanges, listen
from aerodrome.db.metadata import metadata
from aerodrome.db.remembered import TablesView
from aerodrome.db.session import Database
from aerodrome.identity import service as identity_service
from aerodrome.settings import Settings

ADMIN_PASSWORD = "admin-password-for-tests"
POSTGRES_ADMIN_URL = os.environ.get(
    "AERODROME_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
)
BASELINE_TABLES = ("teams", "users", "memberships")


@dataclass
class Backend:
    name: str
    url: str
    settings: Settings
    database: Database
    baseline: dict[str, list[dict[str, Any]]]


def basic(login: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{login}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


ADMIN = basic("admin", ADMIN_PASSWORD)


async def _create_postgres_database() -> str:
    name = f"aerodrome_test_{uuid.uuid4().hex[:12]}"
    engine = create_async_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    async with engine.connect() as connection:
        await connection.execute(text(f'CREATE DATABASE "{name}"'))
    await engine.dispose()
    return POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"


async def _drop_postgres_database(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    engine = create_async_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    async with engine.connect() as connection:
        await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    await engine.dispose()


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
async def backend(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Backend]:
    data_dir = tmp_path_factory.mktemp(request.param)
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{data_dir / 'aerodrome.db'}"
    else:
        url = await _create_postgres_database()
    settings = Settings(database_url=url, data_dir=data_dir)
    await migrate.upgrade(url)
    database = Database(settings)
    async with database.unit_of_work() as session:
        await identity_service.ensure_admin(session, ADMIN_PASSWORD)
    baseline: dict[str, list[dict[str, Any]]] = {}
    async with database.unit_of_work(write=False) as session:
        for name in BASELINE_TABLES:
            rows = await session.execute(select(metadata.tables[name]))
            baseline[name] = [dict(r) for r in rows.mappings()]
    yield Backend(request.param, url, settings, database, baseline)
    await database.dispose()
    if request.param == "postgresql":
        await _drop_postgres_database(url)


@pytest.fixture(autouse=True)
async def _clean_tables(request: pytest.FixtureRequest) -> AsyncIterator[None]:
    yield
    if "backend" not in request.fixturenames:
        return
    backend: Backend = request.getfixturevalue("backend")
    async with backend.database.unit_of_work() as session:
        for table in reversed(metadata.sorted_tables):
            await session.execute(delete(table))
        for name in BASELINE_TABLES:
            await session.execute(insert(metadata.tables[name]), backend.baseline[name])


@pytest.fixture(scope="session")
async def app(backend: Backend) -> AsyncIterator[FastAPI]:
    """The application, hearing of table changes as a server does on PostgreSQL: so every test
    there also runs with identities trusted and answers kept (db/changes.py). The tests' own
    writes through `backend.database` count as the application's own, as a server's do."""
    app = create_app(backend.settings)
    changes: TableChanges = app.state.database.changes
    stopping = asyncio.Event()
    listener = None
    if backend.name == "postgresql":
        listener = asyncio.create_task(listen(app.state.database.engine, changes, stopping))
        backend.database.after_commit.append(changes.committed)
        await until_listening(changes, expected=True)
    try:
        yield app
    finally:
        stopping.set()
        if listener is not None:
            backend.database.after_commit.remove(changes.committed)
            await listener
        await app.state.database.dispose()


async def until_listening(changes: TableChanges | TablesView, *, expected: bool) -> None:
    for _ in range(500):
        if changes.listening == expected:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"change listener: listening={changes.listening}, wanted {expected}")


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class LiveServer:
    url: str
    env: dict[str, str]


def server_environment(backend: Backend, **extra: str) -> dict[str, str]:
    """The environment of an `aerodrome serve` process on the test database."""
    return {
        **os.environ,
        "AERODROME_DATABASE_URL": backend.url,
        "AERODROME_DATA_DIR": str(backend.settings.data_dir),
        "AERODROME_PORT": str(_free_port()),
        "AERODROME_LOG_LEVEL": "warning",
        # Tests seal stats days themselves, at the moments they choose.
        "AERODROME_STATS_SEAL_SECONDS": "86400",
        **extra,
    }


def start_server(
    env: dict[str, str], log_path: Path | None = None
) -> tuple[subprocess.Popen[bytes], str]:
    """`aerodrome serve` in its own process, once it answers `/healthz`.

    Its output goes to `log_path` (a temporary file by default), never to a pipe: a pipe nobody
    reads fills up, and the server then blocks on its next log line."""
    if log_path is None:
        log_path = Path(tempfile.mkstemp(prefix="aerodrome-serve-", suffix=".log")[1])
    command = [sys.executable, "-m", "aerodrome", "serve"]
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{env['AERODROME_PORT']}"
    try:
        _wait_until_healthy(url, process, log_path)
    except Exception:
        process.kill()
        raise
    return process, url


@pytest.fixture(scope="session")
def live_server(backend: Backend) -> Iterator[LiveServer]:
    """One server process per backend, shared by the tests that need real connections."""
    env = server_environment(backend)
    process, url = start_server(env)
    try:
        yield LiveServer(url=url, env=env)
    finally:
        stop_server(process)


def stop_server(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM, and SIGKILL when a client left a connection open past the graceful delay."""
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=15)


def _wait_until_healthy(url: str, process: subprocess.Popen[bytes], log_path: Path) -> None:
    # Three seconds on an idle machine; CI machines are neither idle nor fast.
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            output = log_path.read_text(errors="replace")
            raise RuntimeError(f"server exited with {process.returncode}:\n{output}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    output = log_path.read_text(errors="replace")
    raise RuntimeError(f"server did not become healthy within 60 s:\n{output}")


def repo_root() -> Path:
    return Path(__file__).resolve().parent.parent


LOGGERS = ("", "uvicorn", "uvicorn.error", "uvicorn.access", "dciauth")


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """Put the process-wide loggers that logging configuration touches back as they were."""
    saved = []
    for name in LOGGERS:
        logger = logging.getLogger(name)
        saved.append((logger, logger.handlers[:], logger.level, logger.propagate))
    yield
    for logger, handlers, level, propagate in saved:
        logger.handlers[:] = handlers
        logger.setLevel(level)
        logger.propagate = propagate
