"""dciclient against `aerodrome serve`: `dcictl job-upload-file`, `job-list-file`,
`job-download-file` and `job-results`, with Basic auth and with HMAC signatures, and the same
through dciclient's Python API."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
from dciclient.v1.api import context as dci_context
from dciclient.v1.api import file as dci_file
from dciclient.v1.api import job as dci_job

from tests.conftest import Backend, LiveServer
from tests.files.world import Member, job, junit, member, topic


def _dcictl(url: str, auth: dict[str, str], *args: str) -> Any:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DCI_")}
    env.update({"DCI_CS_URL": url, **auth})
    done = subprocess.run(
        [str(Path(sys.executable).with_name("dcictl")), "--format", "json", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads(done.stdout) if done.stdout.strip() else None


def _basic(red: Member) -> dict[str, str]:
    return {"DCI_LOGIN": "user-red", "DCI_PASSWORD": "user-red-password"}


def _hmac(red: Member) -> dict[str, str]:
    return {
        "DCI_CLIENT_ID": f"remoteci/{red.remoteci['id']}",
        "DCI_API_SECRET": str(red.remoteci["api_secret"]),
    }


async def test_dcictl_file_commands(
    client: httpx.AsyncClient, backend: Backend, live_server: LiveServer, tmp_path: Path
) -> None:
    red = await member(client, "red")
    made = await job(backend, red, (await topic(client))["id"])
    report = tmp_path / "tempest.xml"
    report.write_bytes(junit({"boot": "success", "resize": "failure", "gpu": "skipped"}))
    log = tmp_path / "console.log"
    log.write_bytes(os.urandom(200_000))
    for auth, path, mime in [(_basic(red), report, "application/junit"), (_hmac(red), log, None)]:
        args = ["job-upload-file", made["id"], "--name", path.name, "--path", str(path)]
        uploaded = await asyncio.to_thread(
            _dcictl, live_server.url, auth, *args, *(["--mime", mime] if mime else [])
        )
        assert uploaded["file"]["name"] == path.name, uploaded
        assert uploaded["file"]["size"] == path.stat().st_size
    listed = await asyncio.to_thread(
        _dcictl, live_server.url, _hmac(red), "job-list-file", made["id"]
    )
    assert listed["_meta"]["count"] == 2
    by_name = {f["name"]: f for f in listed["files"]}
    assert by_name["tempest.xml"]["mime"] == "application/junit"
    assert by_name["console.log"]["mime"] == "application/octet-stream"  # no --mime given
    target = tmp_path / "downloaded.log"
    args = ["job-download-file", made["id"], "--file-id", by_name["console.log"]["id"]]
    await asyncio.to_thread(_dcictl, live_server.url, _basic(red), *args, "--target", str(target))
    assert target.read_bytes() == log.read_bytes()
    results = await asyncio.to_thread(
        _dcictl, live_server.url, _hmac(red), "job-results", made["id"]
    )
    [summary] = results["results"]
    assert (summary["name"], summary["total"], summary["failures"], summary["skips"]) == (
        "tempest.xml",
        3,
        1,
        1,
    )


def _python_api(url: str, red: Member, job_id: str, report: bytes) -> tuple[int, int, Any, Any]:
    context = dci_context.build_signature_context(
        dci_cs_url=url,
        dci_client_id=f"remoteci/{red.remoteci['id']}",
        dci_api_secret=str(red.remoteci["api_secret"]),
    )
    created = dci_file.create(
        context, "junit.xml", content=report, mime="application/junit", job_id=job_id
    )
    content = dci_file.content(context, created.json()["file"]["id"])
    results = dci_job.list_results(context, id=job_id)
    files = dci_job.list_files(context, id=job_id)
    return created.status_code, content.status_code, results.json(), files.json()


async def test_python_api_and_team_isolation(
    client: httpx.AsyncClient, backend: Backend, live_server: LiveServer
) -> None:
    red, blue = await member(client, "red"), await member(client, "blue")
    made = await job(backend, red, (await topic(client))["id"])
    report = junit({"a": "success", "b": "error"})
    created, fetched, results, files = await asyncio.to_thread(
        _python_api, live_server.url, red, made["id"], report
    )
    assert (created, fetched) == (201, 200)
    assert results["results"][0]["errors"] == 1
    assert files["_meta"]["count"] == 1
    stolen = await asyncio.to_thread(
        _dcictl, live_server.url, _hmac(blue), "job-list-file", made["id"]
    )
    assert stolen["status_code"] == 404
    blue_results = await asyncio.to_thread(
        _dcictl, live_server.url, _hmac(blue), "job-results", made["id"]
    )
    assert blue_results["status_code"] == 404
    file_id = files["files"][0]["id"]
    shown = await asyncio.to_thread(_dcictl, live_server.url, _hmac(blue), "file-show", file_id)
    assert shown["status_code"] == 404
    everything = await asyncio.to_thread(_list_all_files, live_server.url, blue)
    assert everything["_meta"]["count"] == 0
    assert everything["files"] == []


def _list_all_files(url: str, agent: Member) -> Any:
    context = dci_context.build_signature_context(
        dci_cs_url=url,
        dci_client_id=f"remoteci/{agent.remoteci['id']}",
        dci_api_secret=str(agent.remoteci["api_secret"]),
    )
    return dci_file.list(context).json()
