"""The real client: teuthology (from PyPI) reporting runs and locking nodes against a live
server, with Basic credentials in its `results_server`/`lock_server` URLs.

teuthology monkey-patches the process with gevent when imported, so it runs in subprocesses:
its `teuthology-report` command, and a small script driving its lock client.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import textwrap
import uuid
from typing import Any

import httpx

from tests.clients.conftest import (
    DOMAIN,
    RERUN_ON_LOOP_EXIT,
    archive_path,
    check_teuthology,
    teuthology_report,
    write_job,
)
from tests.conftest import ADMIN, LiveServer

pytestmark = RERUN_ON_LOOP_EXIT


def _job_config(run: str, job_id: str) -> dict[str, Any]:
    return {
        "name": run,
        "job_id": int(job_id),
        "description": f"rados/basic/{job_id}",
        "machine_type": "smithi",
        "os_type": "ubuntu",
        "os_version": 22.04,
        "branch": "main",
        "sha1": "0123456789abcdef",
        "suite": "rados",
        "owner": "scheduled_teuthology@teuthology",
        "priority": 50,
        "targets": {f"ubuntu@smithi00{job_id}.{DOMAIN}": "ssh-ed25519 AAAA"},
        "tasks": [{"install": None}, {"ceph": None}],
        "mon.a-kernel-sha1": "k1",
    }


async def _get(live_server: LiveServer, path: str) -> Any:
    async with httpx.AsyncClient(base_url=live_server.url, headers=ADMIN) as http:
        response = await http.get(path)
    assert response.status_code == 200, response.text
    return response.json()


async def test_report_a_run_then_refresh_then_mark_dead(
    live_server: LiveServer, teuthology_env: dict[str, str]
) -> None:
    archive = archive_path(teuthology_env)
    run = f"teuthology-2024-03-01_10:00:00-rados-main-distro-default-smithi-{uuid.uuid4().hex[:6]}"
    finished: dict[str, dict[str, Any]] = {
        "1": {"success": True, "duration": 61.5},
        "2": {"success": False},
    }
    for job_id in ("1", "2", "3", "4"):
        files: dict[str, dict[str, Any]] = {
            "orig.config.yaml": _job_config(run, job_id),
            "info.yaml": {"pid": 4242},
        }
        if job_id in finished:
            files["summary.yaml"] = {**finished[job_id], "failure_reason": None}
        write_job(archive, run, job_id, files)

    teuthology_report(teuthology_env, "-r", run)
    shown = await _get(live_server, f"/runs/{run}/")
    statuses = {job["job_id"]: job["status"] for job in shown["jobs"]}
    assert statuses == {"1": "pass", "2": "fail", "3": "unknown", "4": "unknown"}
    assert shown["results"]["total"] == 4
    assert shown["status"] == "unknown"
    job = await _get(live_server, f"/runs/{run}/jobs/1/")
    assert job["os_version"] == "22.04"
    assert job["mon_a_kernel_sha1"] == "k1"
    assert job["duration"] == 61.5
    assert job["pid"] == 4242
    assert job["tasks"] == [{"install": None}, {"ceph": None}]

    # Reported again without --refresh: HEAD says it is there, nothing is sent.
    write_job(archive, run, "3", {"summary.yaml": {"success": True}})
    teuthology_report(teuthology_env, "-r", run)
    assert (await _get(live_server, f"/runs/{run}/jobs/3/"))["status"] == "unknown"
    # --refresh: the POST of a known job answers "already exists" and teuthology PUTs it.
    teuthology_report(teuthology_env, "-R", "-r", run)
    assert (await _get(live_server, f"/runs/{run}/jobs/3/"))["status"] == "pass"

    # --dead on the run: only the unfinished job dies; a dead never overwrites pass/fail.
    teuthology_report(teuthology_env, "-D", "-r", run)
    shown = await _get(live_server, f"/paddles/runs/{run}/")
    statuses = {job["job_id"]: job["status"] for job in shown["jobs"]}
    assert statuses == {"1": "pass", "2": "fail", "3": "pass", "4": "dead"}
    assert shown["results"] == {
        "queued": 0,
        "pass": 2,
        "running": 0,
        "waiting": 0,
        "fail": 1,
        "dead": 1,
        "unknown": 0,
        "total": 4,
    }
    assert shown["status"] == "finished fail"
    # --dead on one finished job through -j: still a pass.
    teuthology_report(teuthology_env, "-D", "-r", run, "-j", "1")
    assert (await _get(live_server, f"/runs/{run}/jobs/1/"))["status"] == "pass"


LOCK_SCRIPT = textwrap.dedent(
    """
    import json, sys, types
    from teuthology.lock import ops, query

    machine_type = sys.argv[1]
    ctx = types.SimpleNamespace(machine_type=machine_type, config={})
    out = {}
    out["locked"] = sorted(ops.lock_many(
        ctx, 2, machine_type, user="alice@desk", description="run/1", reimage=False
    ))
    out["listed"] = sorted(
        n["name"] for n in query.list_locks(machine_type=machine_type, locked=True)
    )
    out["status"] = query.get_status(out["locked"][0])
    out["steal"] = ops.lock_one(out["locked"][0], user="bob@desk").status_code
    out["too_many"] = ops.lock_many(
        ctx, 5, machine_type, user="bob@desk", description="x", reimage=False
    )
    out["unlocked"] = ops.unlock_many(out["locked"], "alice@desk")
    out["free"] = len(query.list_locks(machine_type=machine_type, locked=False))
    out["one"] = ops.lock_one(out["locked"][1], user="bob@desk", description="d").status_code
    ops.update_inventory({"name": "new001." + sys.argv[2], "machine_type": machine_type,
                          "os_type": "centos", "os_version": "9", "up": True})
    out["inventory"] = query.get_status("new001." + sys.argv[2])
    print(json.dumps(out))
    """
)


async def test_lock_client(live_server: LiveServer, teuthology_env: dict[str, str]) -> None:
    machine_type = "m" + uuid.uuid4().hex[:8]
    async with httpx.AsyncClient(base_url=live_server.url, headers=ADMIN) as http:
        for number in range(3):
            body = {"name": f"{machine_type}{number:03d}.{DOMAIN}", "machine_type": machine_type}
            response = await http.post("/nodes/", json={**body, "ssh_pub_key": "ssh-rsa K"})
            assert response.status_code == 200, response.text
    result = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-c", LOCK_SCRIPT, machine_type, DOMAIN],
        env=teuthology_env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    check_teuthology(result)
    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert len(out["locked"]) == 2
    assert out["listed"] == [name.split("@")[-1] for name in out["locked"]]
    assert out["status"]["locked_by"] == "alice@desk"
    assert out["status"]["description"] == "run/1"
    assert out["steal"] == 403
    assert out["too_many"] == []
    assert out["unlocked"] is True
    assert out["free"] == 3
    assert out["one"] == 200
    assert out["inventory"]["os_type"] == "centos"
    assert out["inventory"]["up"] is True
