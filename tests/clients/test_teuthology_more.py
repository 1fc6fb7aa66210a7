"""The rest of what teuthology (from PyPI) asks of paddles, against a live server: the
reporter's reads and deletes and `--all-runs`, `teuthology-kill`, stale-lock detection, the
`teuthology-lock` command line, the dispatcher's locking and the supervisor's reimage check.

teuthology monkey-patches the process with gevent when imported, so it runs in subprocesses:
its commands, or small scripts calling its functions where the command would also need SSH or
beanstalkd. Those scripts replace only `ops.stop_node`, which powers a node off over SSH.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import textwrap
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select, update

from aerodrome.db.metadata import metadata
from aerodrome.db.types import utcnow
from tests.clients.conftest import (
    BIN,
    DOMAIN,
    RERUN_ON_LOOP_EXIT,
    archive_path,
    check_teuthology,
    teuthology_report,
    write_job,
)
from tests.conftest import ADMIN, Backend, LiveServer

pytestmark = RERUN_ON_LOOP_EXIT

PRELUDE = textwrap.dedent(
    """
    import json, sys, types
    import yaml
    from teuthology import kill, report
    from teuthology.dispatcher import supervisor
    from teuthology.lock import cli, ops, query
    from scripts.lock import parse_args

    ops.stop_node = lambda name, status=None: None
    args = json.loads(sys.argv[1])
    out = {}
    """
)


def _run_script(env: dict[str, str], body: str, args: Any) -> dict[str, Any]:
    """Run PRELUDE + `body` with `args` (JSON); the `out` it printed last."""
    script = PRELUDE + textwrap.dedent(body) + "\nprint(json.dumps(out, default=str))\n"
    result = subprocess.run(
        [sys.executable, "-c", script, json.dumps(args)],
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    check_teuthology(result)
    out: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return out


async def _script(env: dict[str, str], body: str, args: Any) -> dict[str, Any]:
    return await asyncio.to_thread(_run_script, env, body, args)


def _command(env: dict[str, str], *command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / command[0]), *command[1:]],
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )


async def _get(live_server: LiveServer, path: str, status: int = 200) -> Any:
    async with httpx.AsyncClient(base_url=live_server.url, headers=ADMIN) as http:
        response = await http.get(path)
    assert response.status_code == status, response.text
    return response.json()


async def _post_job(live_server: LiveServer, run: str, job: dict[str, Any]) -> None:
    async with httpx.AsyncClient(base_url=live_server.url, headers=ADMIN) as http:
        response = await http.post(f"/runs/{run}/jobs/", json={"name": run, **job})
    assert response.status_code == 200, response.text


async def _add_nodes(live_server: LiveServer, *nodes: dict[str, Any]) -> None:
    async with httpx.AsyncClient(base_url=live_server.url, headers=ADMIN) as http:
        for node in nodes:
            response = await http.post("/nodes/", json=node)
            assert response.status_code == 200, response.text
            if node.get("locked_by"):
                lock = {"locked": True, "locked_by": node["locked_by"], "description": None}
                lock["description"] = node.get("description")
                response = await http.put(f"/nodes/{node['name']}/lock/", json=lock)
                assert response.status_code == 200, response.text


def _run_name(kind: str) -> str:
    # paddles reads suite, branch and machine type out of a run's name, the user comes first.
    return f"u{uuid.uuid4().hex[:8]}-2024-03-01_10:00:00-{kind}-main-distro-default-smithi"


async def _statuses(live_server: LiveServer, run: str) -> dict[str, str]:
    shown = await _get(live_server, f"/runs/{run}/")
    return {job["job_id"]: job["status"] for job in shown["jobs"]}


REPORTER_SCRIPT = """
reporter = report.ResultsReporter()
run, other = args["run"], args["other"]
out["run"] = reporter.get_run(run, fields=["name", "status", "machine_type"])
out["jobs"] = reporter.get_jobs(run, fields=["status"])
out["job"] = reporter.get_jobs(run, "2")
out["job_fields"] = reporter.get_jobs(run, "2", fields=["status", "pid"])
reporter.delete_job(run, "1")
out["after_delete"] = sorted(j["job_id"] for j in reporter.get_jobs(run, fields=["job_id"]))
# Not every job of the run: only the job goes; every job: the run goes.
report.try_delete_jobs(other, "1")
out["other_after_one"] = sorted(j["job_id"] for j in reporter.get_jobs(other))
report.try_delete_jobs(other, ["2"])
try:
    reporter.get_run(other)
except Exception as error:
    out["other_gone"] = error.response.status_code
"""


async def test_report_all_runs_then_read_and_delete(
    live_server: LiveServer, teuthology_env: dict[str, str], tmp_path: Path
) -> None:
    archive = archive_path(teuthology_env)
    run, other = _run_name("rados"), _run_name("rbd")
    for name in (run, other):
        for job_id in ("1", "2"):
            config = {"name": name, "job_id": job_id, "machine_type": "smithi", "pid": 4242}
            summary = {"success": job_id == "1", "failure_reason": None}
            write_job(archive, name, job_id, {"orig.config.yaml": config, "summary.yaml": summary})

    log = teuthology_report(teuthology_env, "--all-runs", cwd=tmp_path)
    assert "Total: 4 jobs in 2 runs" in log
    # Remembered while posting, forgotten once every run is in.
    assert not (tmp_path / "last_successful_run").exists()
    assert await _statuses(live_server, run) == {"1": "pass", "2": "fail"}
    assert await _statuses(live_server, other) == {"1": "pass", "2": "fail"}

    out = await _script(teuthology_env, REPORTER_SCRIPT, {"run": run, "other": other})
    assert out["run"] == {"name": run, "status": "finished fail", "machine_type": "smithi"}
    assert sorted(out["jobs"], key=lambda job: job["job_id"]) == [
        {"status": "pass", "job_id": "1"},
        {"status": "fail", "job_id": "2"},
    ]
    assert out["job"]["job_id"] == "2"
    assert out["job"]["status"] == "fail"
    assert out["job"]["success"] is False
    assert out["job"]["failure_reason"] is None
    assert out["job_fields"] == {"status": "fail", "pid": 4242, "job_id": "2"}
    assert out["after_delete"] == ["2"]
    assert out["other_after_one"] == ["2"]
    assert out["other_gone"] == 404
    shown = await _get(live_server, f"/runs/{run}/")
    assert shown["results"]["total"] == 1
    assert shown["results"]["fail"] == 1
    await _get(live_server, f"/runs/{other}/", status=404)


async def test_kill_run_stops_its_process_and_marks_unfinished_jobs_dead(
    live_server: LiveServer, teuthology_env: dict[str, str]
) -> None:
    run = _run_name("rados")
    # A stand-in for the job's teuthology process: teuthology-kill finds it by the job's pid
    # from the results server, and kills it only because its command line names the run.
    stand_in = [sys.executable, "-c", "import time; time.sleep(300)", run]
    process = await asyncio.to_thread(subprocess.Popen, stand_in)
    try:
        await _post_job(live_server, run, {"job_id": "1", "status": "pass"})
        await _post_job(live_server, run, {"job_id": "2", "status": "running", "pid": process.pid})
        await _post_job(live_server, run, {"job_id": "3", "status": "queued"})
        # -p: the queue is beanstalkd's, not the results server's.
        result = await asyncio.to_thread(
            _command, teuthology_env, "teuthology-kill", "-p", "-r", run
        )
        check_teuthology(result)
        assert await asyncio.to_thread(process.wait, 30) != 0
    finally:
        process.kill()
        process.wait()
    assert await _statuses(live_server, run) == {"1": "pass", "2": "dead", "3": "dead"}
    shown = await _get(live_server, f"/runs/{run}/")
    assert shown["status"] == "finished dead"
    assert shown["results"]["dead"] == 2


KILL_JOB_SCRIPT = """
run = args["run"]
kill.remove_paddles_jobs(run)
out["left"] = sorted(j["job_id"] for j in report.ResultsReporter().get_jobs(run))
kill.kill_job(run, "1")
out["node"] = query.get_status(args["node"])
"""


async def test_kill_job_marks_it_dead_and_unlocks_its_nodes(
    live_server: LiveServer, teuthology_env: dict[str, str]
) -> None:
    run, node = _run_name("rbd"), f"smithi100.{DOMAIN}"
    description = f"/archive/{run}/1"
    await _add_nodes(
        live_server,
        {"name": node, "machine_type": "smithi", "locked_by": "o@desk", "description": description},
    )
    targets = {f"ubuntu@{node}": "ssh-ed25519 AAAA"}
    job = {"job_id": "1", "status": "running", "owner": "o@desk", "targets": targets}
    await _post_job(live_server, run, job)
    await _post_job(live_server, run, {"job_id": "2", "status": "queued"})
    await _post_job(live_server, run, {"job_id": "3", "status": "pass"})

    out = await _script(teuthology_env, KILL_JOB_SCRIPT, {"run": run, "node": node})
    # remove_paddles_jobs: the queued job goes, the run (with other jobs) stays.
    assert out["left"] == ["1", "3"]
    assert out["node"]["locked"] is False
    assert out["node"]["locked_by"] is None
    killed = await _get(live_server, f"/runs/{run}/jobs/1/")
    assert killed["status"] == "dead"
    assert killed["failure_reason"] == "killed"
    assert killed["owner"] == "o@desk"


STALE_SCRIPT = """
names = args["names"]
out["stale"] = sorted(node["name"] for node in query.find_stale_locks())
out["stale_of_p"] = sorted(node["name"] for node in query.find_stale_locks(owner="p@desk"))
out["active"] = [query.node_active_job(name) for name in names]
out["unlock_safe"] = [ops.unlock_one_safe(name, "o@desk") for name in names[:2]]
out["locked"] = [query.get_status(name)["locked"] for name in names[:2]]
"""


async def test_stale_locks_are_nodes_whose_job_finished_long_ago(
    live_server: LiveServer, teuthology_env: dict[str, str], backend: Backend
) -> None:
    run = _run_name("rgw")
    names = [f"smithi2{number:02d}.{DOMAIN}" for number in range(5)]
    descriptions = [f"/archive/{run}/1", f"/archive/{run}/2", f"/archive/{run}/3", "hands off"]
    owners = ["o@desk", "o@desk", "o@desk", "o@desk", "p@desk"]
    await _add_nodes(
        live_server,
        *(
            {"name": name, "machine_type": "smithi", "locked_by": owner, "description": desc}
            for name, owner, desc in zip(
                names, owners, [*descriptions, descriptions[0]], strict=True
            )
        ),
    )
    await _post_job(live_server, run, {"job_id": "1", "status": "pass"})
    await _post_job(live_server, run, {"job_id": "2", "status": "running"})
    await _post_job(live_server, run, {"job_id": "3", "status": "fail"})
    # Job 1 finished before teuthology's five minutes of grace; job 3 just now.
    runs, jobs = metadata.tables["runs"], metadata.tables["jobs"]
    async with backend.database.unit_of_work() as session:
        run_id = select(runs.c.id).where(runs.c.name == run).scalar_subquery()
        await session.execute(
            update(jobs)
            .where(jobs.c.run_id == run_id, jobs.c.run_job_id == "1")
            .values(updated_at=utcnow() - timedelta(minutes=20))
        )

    out = await _script(teuthology_env, STALE_SCRIPT, {"names": names})
    assert out["stale"] == [names[0], names[4]]
    assert out["stale_of_p"] == [names[4]]
    # Without grace: the finished jobs are not active; the running one and a hand lock are.
    assert out["active"] == [None, descriptions[1], None, "hands off", None]
    # unlock_one_safe (what unlock_safe runs for each node) frees a finished job's node only.
    assert out["unlock_safe"] == [True, False]
    assert out["locked"] == [False, True]


LOCK_CLI_SCRIPT = """
import contextlib, io

def lock(*argv):
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        code = cli.main(parse_args(list(argv)))
    return {"rc": code, "out": printed.getvalue()}

steps = [
    ["--lock", "smithi300", "smithi301", "--owner", "al@desk", "--desc", "for testing"],
    ["--lock", "smithi300", "--owner", "bob@desk"],
    ["--list", "--owner", "al@desk"],
    ["--list-targets", "--owner", "al@desk"],
    ["--brief", "--all"],
    ["--list", "--all", "-m", "vps"],
    ["--summary", "-m", "smithi"],
    ["--update", "--status", "down", "--desc", "broken", "smithi302"],
    ["--unlock", "smithi300", "smithi301", "--owner", "al@desk"],
    ["--lock-many", "2", "-m", "smithi", "--owner", "al@desk", "--desc", "many"],
    ["--lock-many", "1", "-m", "smithi", "--owner", "al@desk"],
]
out["steps"] = [lock(*step) for step in steps]
# What --list-targets and --lock-many print is YAML, for a job's `targets`.
out["targets"] = yaml.safe_load(out["steps"][3]["out"])
out["many"] = yaml.safe_load(out["steps"][9]["out"])
out["nodes"] = {node["name"]: node for node in query.list_locks()}
"""


async def test_lock_command_line(live_server: LiveServer, teuthology_env: dict[str, str]) -> None:
    host, vm = f"host001.{DOMAIN}", f"vpm001.{DOMAIN}"
    await _add_nodes(
        live_server,
        *(
            {"name": f"smithi30{n}.{DOMAIN}", "machine_type": "smithi", "ssh_pub_key": f"K{n}"}
            for n in range(3)
        ),
        {"name": host, "machine_type": "host"},
        {"name": vm, "machine_type": "vps", "is_vm": True, "vm_host": host},
    )
    out = await _script(teuthology_env, LOCK_CLI_SCRIPT, {})
    steps = out["steps"]
    smithi = [f"smithi30{n}.{DOMAIN}" for n in range(3)]
    assert [step["rc"] for step in steps] == [0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1]

    listed = json.loads(steps[2]["out"])
    assert [node["name"] for node in listed] == smithi[:2]
    assert {node["description"] for node in listed} == {"for testing"}
    assert {node["locked_by"] for node in listed} == {"al@desk"}
    assert out["targets"] == {"targets": {smithi[0]: "K0", smithi[1]: "K1"}}
    brief = steps[4]["out"].splitlines()
    assert len(brief) == 5
    assert [smithi[0], "up", "locked", "al@desk", '"for testing"'] in [
        line.split(maxsplit=4) for line in brief
    ]
    # paddles shows a VM's host as its node; teuthology lists just the host's name.
    [vm_listed] = json.loads(steps[5]["out"])
    assert vm_listed["name"] == vm
    assert vm_listed["vm_host"] == host
    summary = steps[6]["out"].splitlines()
    assert summary[0].split() == ["TYPE", "COUNT", "UP", "OWNER"]
    assert sorted(line.split() for line in summary[1:3]) == [
        ["smithi", "1", "1", "(free)"],
        ["smithi", "2", "2", "al@desk"],
    ]

    many = out["many"]["targets"]
    assert sorted(name.rpartition("@")[2] for name in many) == smithi[:2]
    assert sorted(many.values()) == ["K0", "K1"]
    nodes = out["nodes"]
    # --update set the third node down, so --lock-many could take only the first two again.
    assert nodes[smithi[2]]["up"] is False
    assert nodes[smithi[2]]["description"] == "broken"
    assert nodes[smithi[2]]["locked"] is False
    assert [nodes[name]["description"] for name in smithi[:2]] == ["many", "many"]
    assert [nodes[name]["locked_by"] for name in smithi[:2]] == ["al@desk", "al@desk"]


DISPATCH_SCRIPT = """
run, node_names = args["run"], args["nodes"]
archive = "/archive/" + run + "/1"
ctx = types.SimpleNamespace(
    config={"name": run, "job_id": "1", "machine_type": "smithi", "owner": "o@desk"},
    owner="o@desk", archive=archive, block=False, machine_type="smithi",
)
ops.block_and_lock_machines(ctx, 2, "smithi", reimage=False)
out["targets"] = ctx.config["targets"]
out["job"] = report.ResultsReporter().get_jobs(run, "1")
report.try_push_job_info(ctx.config, {"status": "pass"})
supervisor.unlock_targets({**ctx.config, "archive_path": archive})
out["locked_after"] = [query.get_status(name)["locked"] for name in sorted(out["targets"])]
for name in args["reimaged"]:
    supervisor.check_for_reimage_failures_and_mark_down({"ubuntu@" + name: "key"}, count=3)
out["reimaged"] = [query.get_status(name) for name in args["reimaged"]]
"""


async def test_dispatcher_locks_then_supervisor_unlocks_and_marks_down(
    live_server: LiveServer, teuthology_env: dict[str, str]
) -> None:
    run = _run_name("fs")
    free = [f"smithi40{n}.{DOMAIN}" for n in range(3)]
    reimaged = [f"smithi41{n}.{DOMAIN}" for n in range(2)]
    await _add_nodes(
        live_server,
        *({"name": name, "machine_type": "smithi", "ssh_pub_key": "K"} for name in free),
        *({"name": name, "machine_type": "smithi", "up": True} for name in reimaged),
    )
    other = _run_name("rados")
    # Three recent jobs on each node: one node failed reimaging every time, the other failed
    # without a failure_reason (which paddles still shows, as null).
    for number in range(3):
        for name, failure in zip(
            reimaged, ["Error reimaging machines: no image", None], strict=True
        ):
            job: dict[str, Any] = {"job_id": f"{name[:9]}-{number}", "status": "dead"}
            job["targets"] = {f"ubuntu@{name}": "key"}
            if failure:
                job["failure_reason"] = failure
            await _post_job(live_server, other, job)

    args = {"run": run, "nodes": free, "reimaged": reimaged}
    out = await _script(teuthology_env, DISPATCH_SCRIPT, args)
    targets = out["targets"]
    assert len(targets) == 2
    assert {name.rpartition("@")[2] for name in targets} <= set(free)
    assert out["job"]["status"] == "running"
    assert out["job"]["targets"] == targets
    assert out["locked_after"] == [False, False]
    down, fine = out["reimaged"]
    assert down["up"] is False
    assert down["description"] == "reimage failed 3 times"
    assert fine["up"] is True
    assert fine["description"] is None
