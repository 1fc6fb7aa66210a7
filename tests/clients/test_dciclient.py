"""dciclient against a live server: `dcictl` with Basic auth and with a remoteci's HMAC
signature, the `dci-create-job` script, and the Python API (schedule, job states, pipelines)."""

from __future__ import annotations

from typing import Any

import httpx
from dciclient.v1.api import context as dci_context
from dciclient.v1.api import job as dci_job
from dciclient.v1.api import jobstate as dci_jobstate
from dciclient.v1.api import pipeline as dci_pipeline
from dciclient.v1.api import topic as dci_topic

from tests.clients.conftest import DciWorld, dci_command, dcictl
from tests.conftest import ADMIN


def _purge(world: DciWorld, resource: str) -> None:
    """`dcictl purge --force` purges, then fails to print its own summary (a dict, where its
    printer expects a response: a dciclient 4.2 bug), so the effect is checked on the server."""
    with httpx.Client(base_url=world.url, headers=ADMIN) as http:
        archived = http.get(f"/api/v1/{resource}/purge").json()["_meta"]["count"]
        assert archived == 1
        dcictl(world.admin_env, "purge", "--resource", resource, "--force", check=False)
        assert http.get(f"/api/v1/{resource}/purge").json()["_meta"]["count"] == 0


def _ids(listed: dict[str, Any], key: str) -> list[str]:
    return [item["id"] for item in listed[key]]


def test_dcictl_catalog_with_basic_auth(dci_world: DciWorld) -> None:
    env, topic = dci_world.admin_env, dci_world.topic
    assert _ids(dcictl(env, "topic-list"), "topics") == [topic["id"]]
    created = dcictl(
        env, "component-create", "ocp-1.1", "--type", "ocp", "--topic-id", topic["id"],
        "--version", "1.1", "--tags", "ga,x86_64",
    )["component"]  # fmt: skip
    assert (created["name"], created["topic_id"], created["tags"]) == (
        "ocp-1.1",
        topic["id"],
        ["ga", "x86_64"],
    )
    shown = dcictl(env, "component-show", created["id"])["component"]
    assert shown["version"] == "1.1"
    updated = dcictl(env, "component-update", created["id"], "--version", "1.1.1")["component"]
    assert updated["version"] == "1.1.1"
    listed = dcictl(env, "component-list", "--topic-id", topic["id"], "--where", "type:ocp")
    assert [c["name"] for c in listed["components"]] == ["ocp-1.1", "ocp-1.0"]
    assert listed["_meta"]["count"] == 2
    deleted = dcictl(env, "component-delete", created["id"], "--etag", updated["etag"])
    assert deleted in ("", None) or "error" not in str(deleted).lower()
    remaining = dcictl(env, "component-list", "--topic-id", topic["id"])
    assert created["id"] not in _ids(remaining, "components")
    _purge(dci_world, "components")


def test_dcictl_jobs_as_a_remoteci_with_hmac(dci_world: DciWorld) -> None:
    env, job = dci_world.remoteci_env, dci_world.job
    listed = dcictl(env, "job-list")
    assert _ids(listed, "jobs") == [job["id"]]
    assert listed["jobs"][0]["topic"]["id"] == dci_world.topic["id"]
    assert listed["jobs"][0]["remoteci"]["id"] == dci_world.remoteci["id"]
    state = dcictl(env, "jobstate-create", "--job-id", job["id"], "--status", "running")
    assert state["jobstate"]["status"] == "running"
    updated = dcictl(env, "job-update", job["id"], "--comment", "half way", "--tags", "ci,nightly")
    assert (updated["job"]["comment"], updated["job"]["tags"]) == ("half way", ["ci", "nightly"])
    finished = dcictl(env, "job-update", job["id"], "--status", "success")
    assert finished["job"]["status"] == "success"
    kv = dcictl(env, "job-add-key-value", job["id"], "score", "97.5")
    assert kv["kv"]["value"] == 97.5
    shown = dcictl(env, "job-show", job["id"])["job"]
    assert shown["status"] == "success"
    assert shown["keys_values"][0]["key"] == "score"
    assert [c["type"] for c in shown["components"]] == ["ocp", "storage"]
    assert _ids(dcictl(env, "topic-list"), "topics") == [dci_world.topic["id"]]
    assert [r["id"] for r in dcictl(env, "remoteci-list")["remotecis"]] == [
        dci_world.remoteci["id"]
    ]


def test_a_remoteci_cannot_see_or_change_another_teams_job(
    live_server_world: tuple[DciWorld, DciWorld],
) -> None:
    ours, theirs = live_server_world
    assert dcictl(theirs.remoteci_env, "job-list")["_meta"]["count"] == 1
    refused = dcictl(theirs.remoteci_env, "job-show", ours.job["id"])
    assert refused["status_code"] == 404
    changed = dcictl(
        theirs.remoteci_env, "jobstate-create", "--job-id", ours.job["id"], "--status", "killed"
    )
    assert changed["status_code"] == 404
    assert dcictl(ours.admin_env, "job-show", ours.job["id"])["job"]["status"] == "new"


def test_dcictl_remotecis_pipelines_and_purge(dci_world: DciWorld) -> None:
    env, team_id = dci_world.user_env, dci_world.team["id"]
    # Without --team-id dcictl takes the caller's team from /identity.
    created = dcictl(env, "remoteci-create", "--name", "second-lab")
    assert created["remoteci"]["api_secret"]
    assert created["remoteci"]["team_id"] == team_id
    names = {r["name"] for r in dcictl(env, "remoteci-list")["remotecis"]}
    assert names == {"partner-lab", "second-lab"}
    pipeline = dcictl(env, "pipeline-create", "--name", "nightly-42", "--team-id", team_id)
    pipeline_id = pipeline["pipeline"]["id"]
    assert dcictl(env, "pipeline-show", pipeline_id)["pipeline"]["name"] == "nightly-42"
    assert _ids(dcictl(env, "pipeline-list"), "pipelines") == [pipeline_id]
    assert dcictl(env, "pipeline-show-jobs", pipeline_id)["_meta"]["count"] == 0
    job = dci_world.job
    dcictl(dci_world.admin_env, "job-delete", job["id"], "--etag", job["etag"])
    assert dcictl(env, "job-list")["_meta"]["count"] == 0
    _purge(dci_world, "jobs")


def test_dci_create_job_script(dci_world: DciWorld) -> None:
    created = dci_command(
        "dci-create-job", dci_world.remoteci_env,
        "--name", "from-script", "--topic", dci_world.topic["name"],
        "--remoteci", dci_world.remoteci["name"], "--comp", "ocp-1.0", "--comp", "storage-1.0",
        "--tag", "script", "--key-value", "duration=12.5", "--configuration", "sno",
    )["job"]  # fmt: skip
    assert (created["name"], created["tags"], created["configuration"]) == (
        "from-script",
        ["script"],
        "sno",
    )
    assert [c["name"] for c in created["components"]] == ["ocp-1.0", "storage-1.0"]
    assert [(k["key"], k["value"]) for k in created["keys_values"]] == [("duration", 12.5)]
    assert created["remoteci_id"] == dci_world.remoteci["id"]


def test_python_api_schedule_jobstates_and_pipelines(dci_world: DciWorld) -> None:
    context = dci_context.build_signature_context(
        dci_cs_url=dci_world.url,
        dci_client_id=dci_world.remoteci_env["DCI_CLIENT_ID"],
        dci_api_secret=dci_world.remoteci_env["DCI_API_SECRET"],
        max_retries=0,
    )
    topics = dci_topic.list(context, where=f"name:{dci_world.topic['name']}").json()
    topic_id = topics["topics"][0]["id"]
    pipeline = dci_pipeline.create(context, "pipeline-py", dci_world.team["id"])
    assert pipeline.status_code == 201, pipeline.text
    pipeline_id = pipeline.json()["pipeline"]["id"]
    scheduled = dci_job.schedule(context, topic_id, pipeline_id=pipeline_id, name="py")
    assert scheduled.status_code == 201, scheduled.text
    job_id = context.last_job_id
    assert scheduled.json()["job"]["pipeline_id"] == pipeline_id
    for status in ("pre-run", "running", "failure"):
        response = dci_jobstate.create(context, status, f"{status}!", job_id)
        assert response.status_code == 201, response.text
    states = dci_job.list_jobstates(context, job_id).json()["jobstates"]
    assert [s["status"] for s in states] == ["pre-run", "running", "failure"]
    embedded = dci_job.get(context, job_id, embed="topic,jobstates,pipeline").json()["job"]
    assert embedded["status"] == "failure"
    assert embedded["pipeline"]["fail"] == 1
    assert len(embedded["jobstates"]) == 3
    jobs = dci_pipeline.get_jobs(context, pipeline_id).json()
    assert [j["id"] for j in jobs["jobs"]] == [job_id]
    updated = dci_job.job_update(context, job_id)
    assert updated.status_code == 201, updated.text
    assert updated.json()["job"]["update_previous_job_id"] == job_id
    missing = dci_job.upgrade(context, job_id)
    assert missing.status_code == 400
    tags = dci_job.add_tag(context, job_id, "triaged")
    assert tags.json()["job"]["tags"] == ["triaged"]
