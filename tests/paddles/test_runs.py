"""The paddles `/runs/` tree: runs, jobs, status rules, roll-ups, filters, error shape."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from aerodrome.app import create_app
from tests.conftest import ADMIN, Backend

RUN = "teuthology-2024-03-01_10:00:00-rados-main-distro-default-smithi"


async def post_job(
    client: httpx.AsyncClient, run: str, body: dict[str, Any], prefix: str = "/paddles"
) -> httpx.Response:
    return await client.post(f"{prefix}/runs/{run}/jobs/", json=body, headers=ADMIN)


async def put_job(
    client: httpx.AsyncClient, run: str, job_id: str, body: dict[str, Any]
) -> httpx.Response:
    return await client.put(f"/paddles/runs/{run}/jobs/{job_id}/", json=body, headers=ADMIN)


async def get_json(client: httpx.AsyncClient, path: str) -> Any:
    response = await client.get(path, headers=ADMIN)
    assert response.status_code == 200, response.text
    return response.json()


async def test_job_post_creates_the_run_and_stores_the_readme_fields(
    client: httpx.AsyncClient,
) -> None:
    body = {
        "job_id": 7,
        "name": RUN,
        "description": "rados/basic/{clusters/fixed-2.yaml}",
        "mon.a-kernel-sha1": "abc",
        "mon.b_kernel_sha1": "def",
        "os_version": 22.04,
        "targets": {"ubuntu@smithi001.front.example.com": "ssh-ed25519 AAA"},
        "overrides": {"ceph": {"conf": {"osd": {"debug osd": 20}}}},
        "not_a_paddles_key": "dropped",
        "branch": "main",
        "sha1": "0123abcd",
        "status": "running",
    }
    assert (await post_job(client, RUN, body)).status_code == 200
    job = await get_json(client, f"/paddles/runs/{RUN}/jobs/7/")
    assert job["job_id"] == "7"
    assert job["mon_a_kernel_sha1"] == "abc"
    assert job["mon_b_kernel_sha1"] == "def"
    assert job["os_version"] == "22.04"
    assert job["overrides"] == body["overrides"]
    assert job["targets"] == body["targets"]
    assert "not_a_paddles_key" not in job
    assert job["status"] == "running"
    assert job["success"] is None
    assert len(job["posted"]) == 19
    assert job["posted"][10] == " "
    run = await get_json(client, f"/paddles/runs/{RUN}/")
    assert run["status"] == "running"
    assert run["results"]["running"] == 1
    assert run["results"]["total"] == 1
    assert run["branch"] == "main"
    assert run["sha1"] == "0123abcd"
    assert run["suite"] == "rados"
    assert run["machine_type"] == "smithi"
    assert run["scheduled"] == "2024-03-01 10:00:00"
    assert [j["job_id"] for j in run["jobs"]] == ["7"]


async def test_duplicate_job_answers_already_exists(client: httpx.AsyncClient) -> None:
    assert (await post_job(client, RUN, {"job_id": "1"})).status_code == 200
    duplicate = await post_job(client, RUN, {"job_id": "1"})
    assert duplicate.status_code == 400
    assert duplicate.json() == {"message": "job with job_id 1 already exists"}
    missing_id = await post_job(client, RUN, {"description": "x"})
    assert missing_id.status_code == 400
    assert "job_id" in missing_id.json()["message"]


async def test_status_rules_and_incremental_results(client: httpx.AsyncClient) -> None:
    for job_id in ("1", "2", "3", "4"):
        await post_job(client, RUN, {"job_id": job_id, "status": "queued"})
    assert (await get_json(client, f"/paddles/runs/{RUN}/"))["status"] == "queued"
    await put_job(client, RUN, "1", {"status": "running"})
    assert (await get_json(client, f"/paddles/runs/{RUN}/"))["status"] == "running"
    await put_job(client, RUN, "1", {"success": True})
    await put_job(client, RUN, "2", {"success": False})
    await put_job(client, RUN, "3", {"status": "waiting"})
    # A dead never overwrites a pass or a fail, but does overwrite a waiting job.
    for job_id in ("1", "2", "3"):
        response = await put_job(client, RUN, job_id, {"status": "dead"})
        assert response.status_code == 200
    jobs = await get_json(client, f"/paddles/runs/{RUN}/jobs/?fields=status")
    assert {j["job_id"]: j["status"] for j in jobs} == {
        "1": "pass",
        "2": "fail",
        "3": "dead",
        "4": "queued",
    }
    assert {j["job_id"]: set(j) for j in jobs}["1"] == {"job_id", "status"}
    run = await get_json(client, f"/paddles/runs/{RUN}/")
    assert run["results"] == {
        "queued": 1,
        "pass": 1,
        "running": 0,
        "waiting": 0,
        "fail": 1,
        "dead": 1,
        "unknown": 0,
        "total": 4,
    }
    assert run["status"] == "running"  # one job still queued
    await put_job(client, RUN, "4", {"status": "pass"})
    assert (await get_json(client, f"/paddles/runs/{RUN}/"))["status"] == "finished fail"
    queued = await get_json(client, f"/paddles/runs/{RUN}/jobs/?status=fail")
    assert [j["job_id"] for j in queued] == ["2"]


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        ([], "empty"),
        (["pass", "pass"], "finished pass"),
        (["pass", "dead"], "finished dead"),
        (["dead", "fail"], "finished fail"),
        (["pass", "waiting"], "waiting"),
        (["pass", "unknown"], "unknown"),
    ],
)
async def test_run_status(client: httpx.AsyncClient, statuses: list[str], expected: str) -> None:
    created = await client.post("/paddles/runs/", json={"name": RUN}, headers=ADMIN)
    assert created.status_code == 200
    for number, status in enumerate(statuses):
        await post_job(client, RUN, {"job_id": number, "status": status})
    assert (await get_json(client, f"/paddles/runs/{RUN}/"))["status"] == expected


async def test_run_create_head_delete(client: httpx.AsyncClient) -> None:
    assert (await client.head(f"/runs/{RUN}/", headers=ADMIN)).status_code == 404
    created = await client.post("/runs/", json={"name": RUN}, headers=ADMIN)
    assert created.status_code == 200
    again = await client.post("/runs/", json={"name": RUN}, headers=ADMIN)
    assert again.status_code == 400
    assert again.json()["message"].endswith("already exists")
    assert (await client.head(f"/runs/{RUN}/", headers=ADMIN)).status_code == 200
    assert (await client.head(f"/runs/{RUN}", headers=ADMIN)).status_code == 200
    await post_job(client, RUN, {"job_id": "1"}, prefix="")
    deleted = await client.delete(f"/paddles/runs/{RUN}/", headers=ADMIN)
    assert deleted.status_code == 200
    assert (await client.head(f"/runs/{RUN}/", headers=ADMIN)).status_code == 404
    gone = await client.get(f"/paddles/runs/{RUN}/jobs/1/", headers=ADMIN)
    assert gone.status_code == 404
    assert set(gone.json()) == {"message"}


async def test_job_delete_and_put_rules(client: httpx.AsyncClient) -> None:
    await post_job(client, RUN, {"job_id": "1", "status": "pass"})
    await post_job(client, RUN, {"job_id": "2", "status": "fail"})
    changed = await put_job(client, RUN, "1", {"job_id": "9"})
    assert changed.status_code == 400
    missing = await put_job(client, RUN, "5", {"status": "pass"})
    assert missing.status_code == 404
    bad = await put_job(client, RUN, "1", {"status": "exploded"})
    assert bad.status_code == 400
    assert "valid statuses" in bad.json()["message"]
    deleted = await client.delete(f"/paddles/runs/{RUN}/jobs/2/", headers=ADMIN)
    assert deleted.status_code == 200
    run = await get_json(client, f"/paddles/runs/{RUN}/")
    assert run["results"]["fail"] == 0
    assert run["results"]["total"] == 1
    assert run["status"] == "finished pass"


async def _runs(client: httpx.AsyncClient) -> None:
    specs = [
        ("alice-2024-03-01_10:00:00-rados-main-distro-default-smithi", "pass"),
        ("alice-2024-03-02_10:00:00-rbd-main-distro-default-smithi", "fail"),
        ("bob-2024-03-03_10:00:00-rados-reef-distro-default-mira", "queued"),
    ]
    for name, status in specs:
        machine_type = name.rsplit("-", 1)[1]
        body = {"job_id": "1", "status": status, "sha1": "s-" + name[:3]}
        await post_job(client, name, {**body, "machine_type": machine_type})


async def test_filter_trees_in_any_order(client: httpx.AsyncClient) -> None:
    await _runs(client)
    names = [r["name"] for r in await get_json(client, "/paddles/runs/")]
    assert names[0].startswith("bob")
    assert len(names) == 3
    by_suite = await get_json(client, "/paddles/runs/suite/rados/branch/main/")
    assert [r["suite"] + r["branch"] for r in by_suite] == ["radosmain"]
    same = await get_json(client, "/paddles/runs/branch/main/suite/rados")
    assert same == by_suite
    assert await get_json(client, "/paddles/runs/branch/") == ["main", "reef"]
    assert await get_json(client, "/paddles/runs/suite/rados/machine_type/") == [
        "mira",
        "smithi",
    ]
    users = await get_json(client, "/paddles/runs/user/alice/status/finished/")
    assert len(users) == 2
    fail = await get_json(client, "/paddles/runs/status/finished%20fail/")
    assert [r["suite"] for r in fail] == ["rbd"]
    assert len(await get_json(client, "/paddles/runs/date/2024-03-02/")) == 1
    ranged = await get_json(client, "/paddles/runs/date/from/2024-03-02/to/2024-03-03/")
    assert len(ranged) == 2
    queued = await get_json(client, "/paddles/runs/queued/")
    assert [r["user"] for r in queued] == ["bob"]
    page = await get_json(client, "/paddles/runs/?count=1&page=2&fields=name,status")
    assert page == [{"name": names[1], "status": "finished fail"}]
    assert await get_json(client, "/paddles/runs/?since=2999-01-01") == []
    assert len(await get_json(client, "/paddles/runs/sha1/s-bob/")) == 1
    bad = await client.get("/paddles/runs/date/yesterday/", headers=ADMIN)
    assert bad.status_code == 400
    assert set(bad.json()) == {"message"}
    unknown = await client.get("/paddles/runs/?colour=red", headers=ADMIN)
    assert unknown.status_code == 400
    assert "count" in unknown.json()["message"]


async def test_jobs_search(client: httpx.AsyncClient) -> None:
    await _runs(client)
    failed = await get_json(client, "/paddles/jobs/?status=fail")
    assert [j["name"] for j in failed] == [
        "alice-2024-03-02_10:00:00-rbd-main-distro-default-smithi"
    ]
    mira = await get_json(client, "/paddles/jobs/?machine_type=mira&fields=job_id")
    assert mira == [{"job_id": "1"}]


async def test_writes_need_credentials_and_errors_are_paddles_shaped(
    client: httpx.AsyncClient,
) -> None:
    anonymous = await client.post(f"/paddles/runs/{RUN}/jobs/", json={"job_id": "1"})
    assert anonymous.status_code == 401
    assert anonymous.json() == {"message": "authentication required"}
    assert (await client.get("/paddles/runs/")).status_code == 401
    not_json = await client.post(
        f"/runs/{RUN}/jobs/", content=b"{not json", headers={**ADMIN, "Content-Type": ""}
    )
    assert not_json.status_code == 400
    assert not_json.json() == {"message": "could not decode JSON body"}
    index = await client.get("/paddles/", headers=ADMIN)
    assert index.json()["runs"] == "http://testserver/paddles/runs/"
    nowhere = await client.get("/paddles/nowhere/", headers=ADMIN)
    assert nowhere.status_code == 404
    assert set(nowhere.json()) == {"message"}
    nul = await post_job(client, RUN, {"job_id": "1", "description": "a\x00b"})
    assert nul.status_code == 400


async def test_json_body_without_content_type(client: httpx.AsyncClient) -> None:
    response = await client.post(
        f"/runs/{RUN}/jobs/", content=b'{"job_id": "3", "success": true}', headers=ADMIN
    )
    assert response.status_code == 200, response.text
    assert (await get_json(client, f"/runs/{RUN}/jobs/3"))["status"] == "pass"


async def test_public_reads_and_anonymous_writes_settings(backend: Backend) -> None:
    settings = backend.settings.model_copy(
        update={"paddles_public": True, "paddles_anonymous_writes": True}
    )
    app = create_app(settings)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            posted = await http.post(f"/runs/{RUN}/jobs/", json={"job_id": "1"})
            assert posted.status_code == 200
            assert (await http.get(f"/runs/{RUN}/")).json()["results"]["total"] == 1
            # The native API keeps its own rules.
            assert (await http.get("/api/v1/runs")).status_code == 401
    finally:
        await app.state.database.dispose()


async def test_overlong_names_are_refused(client: httpx.AsyncClient) -> None:
    long_run = await post_job(client, "r" * 513, {"job_id": "1"})
    assert long_run.status_code == 400
    long_job = await post_job(client, RUN, {"job_id": "9" * 65})
    assert long_job.status_code == 400
    long_field = await post_job(client, RUN, {"job_id": "1", "sha1": "f" * 65})
    assert long_field.status_code == 400
    assert (await client.head(f"/runs/{RUN}/", headers=ADMIN)).status_code == 404
