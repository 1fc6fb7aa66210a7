"""`aerodrome keys add|list|del` and `stats clean-nonces`; the generated submitter script
really submits a point to a running server."""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import httpx
from sqlalchemy import func, insert, select
from typer.testing import CliRunner, Result

from aerodrome.cli.main import app
from aerodrome.db.types import utcnow
from aerodrome.stats.models import OAuthNonce
from tests.conftest import ADMIN, Backend, LiveServer

runner = CliRunner()


def _env(backend: Backend) -> dict[str, str]:
    return {
        "AERODROME_DATABASE_URL": backend.url,
        "AERODROME_DATA_DIR": str(backend.settings.data_dir),
    }


async def invoke(args: list[str], env: dict[str, str], given: str | None = None) -> Result:
    return await asyncio.to_thread(lambda: runner.invoke(app, args, env=env, input=given))


def _run(script: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(script), *args], capture_output=True, text=True, timeout=60
    )


async def test_generated_script_submits_a_point(
    backend: Backend, live_server: LiveServer, client: httpx.AsyncClient, tmp_path: Path
) -> None:
    script = tmp_path / "submit.py"
    added = await invoke(
        ["keys", "add", "--url", live_server.url, "--output", str(script)],
        _env(backend),
        given="Perf Lab\nlab@example.org\n",
    )
    assert added.exit_code == 0, added.output
    assert "Client name" in added.output
    assert "Contact e-mail" in added.output
    key = re.search(r"client key (\w+) created for Perf Lab", added.output)
    assert key, added.output
    assert script.stat().st_mode & 0o077 == 0

    submitted = _run(script, "unity8", "boot", '{"seconds": 9.5}')
    assert submitted.returncode == 0, submitted.stderr
    series = (await client.get("/nfss/api/v1/unity8/boot", headers=ADMIN)).json()["data"]
    assert [p["data"] for p in series] == [{"seconds": 9.5}]

    listed = await invoke(["keys", "list"], _env(backend))
    assert key.group(1) in listed.output
    assert "Perf Lab" in listed.output
    deleted = await invoke(["keys", "del", key.group(1)], _env(backend))
    assert deleted.exit_code == 0, deleted.output
    refused = _run(script, "unity8", "boot", '{"seconds": 1}')
    assert refused.returncode != 0
    assert "refused (401)" in refused.stderr
    again = await invoke(["keys", "del", key.group(1)], _env(backend))
    assert again.exit_code == 1
    assert "not found" in again.output


async def test_keys_add_takes_options_for_scripts(backend: Backend, tmp_path: Path) -> None:
    script = tmp_path / "ci.py"
    added = await invoke(
        ["keys", "add", "--name", "CI", "--contact", "ci@example.org", "--output", str(script)],
        _env(backend),
    )
    assert added.exit_code == 0, added.output
    assert "Client name" not in added.output
    assert 'SERVER = "http://127.0.0.1:8000"' in script.read_text()


async def test_clean_nonces_removes_only_expired_ones(backend: Backend) -> None:
    old = utcnow() - timedelta(days=2)
    async with backend.database.unit_of_work() as session:
        await session.execute(
            insert(OAuthNonce.__table__),
            [
                {"client_key": "k", "nonce": "old", "timestamp": 1, "used_at": old},
                {"client_key": "k", "nonce": "new", "timestamp": 2, "used_at": utcnow()},
            ],
        )
    cleaned = await invoke(["stats", "clean-nonces"], _env(backend))
    assert cleaned.exit_code == 0, cleaned.output
    assert "removed 1 expired nonces" in cleaned.output
    async with backend.database.unit_of_work(write=False) as session:
        left = await session.execute(select(OAuthNonce.nonce))
        assert list(left.scalars()) == ["new"]
        assert (await session.execute(select(func.count()).select_from(OAuthNonce))).scalar() == 1
