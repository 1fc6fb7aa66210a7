"""Fixtures for the real clients against a live `aerodrome serve`.

DCI (`dcictl`, `dci-create-job`, the dciclient Python API): credentials for Basic and HMAC, and
a small DCI world. `dci_world` gives a team with a user and a remoteci, a product the team may
use, a topic with one component per type and a job of the remoteci; `dcictl(env, ...)` runs the
command and returns its JSON output.

teuthology: `teuthology_env` is the environment of a teuthology process whose configuration
names the live server (with Basic credentials) as its results and lock server.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from tests.conftest import ADMIN, ADMIN_PASSWORD, LiveServer

BIN = Path(sys.executable).parent
# teuthology's `lab_domain`: short node names are completed with it.
DOMAIN = "front.example.com"


def dci_command(name: str, env: dict[str, str], *args: str, check: bool = True) -> Any:
    """Run a dciclient console script with `DCI_FORMAT=json`; its parsed output (or text)."""
    done = subprocess.run(
        [str(BIN / name), *args],
        env={**env, "DCI_FORMAT": "json"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if check:
        assert done.returncode == 0, f"{name} {args} failed: {done.stdout}{done.stderr}"
    try:
        return json.loads(done.stdout)
    except json.JSONDecodeError:
        return done.stdout


def dcictl(env: dict[str, str], *args: str, check: bool = True) -> Any:
    return dci_command("dcictl", env, *args, check=check)


def _client_env(url: str, **credentials: str) -> dict[str, str]:
    # The caller's own DCI_* variables must not leak into the clients under test.
    base = {k: v for k, v in os.environ.items() if not k.startswith("DCI_")}
    return {**base, "DCI_CS_URL": url, **credentials}


@dataclass
class DciWorld:
    url: str
    admin_env: dict[str, str]
    user_env: dict[str, str]
    remoteci_env: dict[str, str]
    team: dict[str, Any]
    user: dict[str, Any]
    remoteci: dict[str, Any]
    product: dict[str, Any]
    topic: dict[str, Any]
    components: list[dict[str, Any]]
    job: dict[str, Any]


def _create(http: httpx.Client, resource: str, body: dict[str, Any], **kw: Any) -> dict[str, Any]:
    response = http.post(f"/api/v1/{resource}", json=body, **kw)
    assert response.status_code == 201, response.text
    return dict(next(iter(response.json().values())))


def build_world(url: str, name: str = "partner") -> DciWorld:
    """A team (user + remoteci) using a product whose topic has an `ocp` and a `storage`."""
    with httpx.Client(base_url=url, headers=ADMIN, timeout=30) as http:
        team = _create(http, "teams", {"name": name})
        password = f"{name}-password"
        user = _create(
            http,
            "users",
            {"name": f"{name}-user", "password": password, "team_ids": [team["id"]]},
        )
        remoteci = _create(http, "remotecis", {"name": f"{name}-lab", "team_id": team["id"]})
        product = _create(http, "products", {"name": f"{name}-OpenShift"})
        _create(http, f"products/{product['id']}/teams", {"team_id": team["id"]})
        topic = _create(
            http,
            "topics",
            {
                "name": f"{name}-OCP-4.16",
                "product_id": product["id"],
                "component_types": ["ocp", "storage"],
            },
        )
        components = [
            _create(
                http,
                "components",
                {"name": f"{t}-1.0", "type": t, "topic_id": topic["id"], "version": "1.0"},
            )
            for t in ("ocp", "storage")
        ]
        job = _create(
            http,
            "jobs",
            {
                "topic_id": topic["id"],
                "remoteci_id": remoteci["id"],
                "components": [c["id"] for c in components],
                "name": "conformance",
            },
        )
    return DciWorld(
        url=url,
        admin_env=_client_env(url, DCI_LOGIN="admin", DCI_PASSWORD=ADMIN_PASSWORD),
        user_env=_client_env(url, DCI_LOGIN=f"{name}-user", DCI_PASSWORD=password),
        remoteci_env=_client_env(
            url,
            DCI_CLIENT_ID=f"remoteci/{remoteci['id']}",
            DCI_API_SECRET=remoteci["api_secret"],
        ),
        team=team,
        user=user,
        remoteci=remoteci,
        product=product,
        topic=topic,
        components=components,
        job=job,
    )


@pytest.fixture
def dci_world(live_server: LiveServer) -> DciWorld:
    """A fresh DCI world on the live server (tables are emptied after each test)."""
    return build_world(live_server.url)


@pytest.fixture
def live_server_world(live_server: LiveServer) -> tuple[DciWorld, DciWorld]:
    """Two teams' worlds on the same server, for isolation tests."""
    return build_world(live_server.url, "ours"), build_world(live_server.url, "theirs")


def _credentialed(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://admin:{ADMIN_PASSWORD}@{parts.netloc}/"


@pytest.fixture
def teuthology_env(tmp_path: Path, live_server: LiveServer) -> dict[str, str]:
    """A teuthology configuration pointing at the live server, in its own file."""
    server = _credentialed(live_server.url)
    archive = tmp_path / "archive"
    archive.mkdir()
    config = {
        "results_server": server,
        "lock_server": server,
        "archive_base": str(archive),
        "lab_domain": DOMAIN,
    }
    # JSON is YAML: teuthology reads this file (and the archive's) with yaml.safe_load.
    path = tmp_path / "teuthology.yaml"
    path.write_text(json.dumps(config))
    return {
        **os.environ,
        "TEUTHOLOGY_CONFIG": str(path),
        "HOME": str(tmp_path),
    }


def archive_path(env: dict[str, str]) -> Path:
    """The `archive_base` of the teuthology configuration in `env`."""
    return Path(json.loads(Path(env["TEUTHOLOGY_CONFIG"]).read_text())["archive_base"])


def write_job(archive: Path, run: str, job_id: str, files: dict[str, dict[str, Any]]) -> None:
    """A job's directory in a teuthology archive, with its YAML files (written as JSON)."""
    job_dir = archive / run / job_id
    job_dir.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        (job_dir / name).write_text(json.dumps(content))


class TeuthologyLoopExit(Exception):
    """teuthology died of gevent's `LoopExit`, not of an answer of ours.

    Under a starved CPU (CI), gevent's non-blocking lock acquire inside urllib3's connection pool
    yields to the hub, which sometimes finds nothing to wait for and gives up. With three busy
    loops on two CPUs about one run in six of the dispatcher test failed this way on gevent's
    default libev loop. The libuv loop was no cure: it failed one test three times in a row in a
    CI run. teuthology pins gevent < 25."""


# A test that fails only this way is run again, at most four times; any other failure stands.
RERUN_ON_LOOP_EXIT = pytest.mark.flaky(reruns=4, reruns_delay=1, only_rerun=["TeuthologyLoopExit"])


def check_teuthology(result: subprocess.CompletedProcess[str]) -> None:
    """The teuthology process ended well."""
    if result.returncode != 0 and "gevent.exceptions.LoopExit" in result.stderr:
        raise TeuthologyLoopExit(result.stderr)
    assert result.returncode == 0, result.stderr


def teuthology_report(env: dict[str, str], *arguments: str, cwd: Path | None = None) -> str:
    """Run `teuthology-report` on the configured archive; its log (teuthology logs to stderr)."""
    command = [str(BIN / "teuthology-report"), "-a", str(archive_path(env)), *arguments]
    result = subprocess.run(
        command, env=env, capture_output=True, text=True, timeout=120, cwd=cwd, check=False
    )
    check_teuthology(result)
    return result.stderr
