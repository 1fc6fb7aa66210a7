"""Results over HTTP: a JUnit upload becomes a summary and cases, compared with the previous
job of the same remoteci, topic, name and configuration; `/jobs/<id>/results`, `/junit`."""

from __future__ import annotations

from datetime import timedelta

import httpx

from aerodrome.db.types import utcnow
from tests.conftest import Backend
from tests.files.world import job, junit, member, topic, upload


async def test_junit_upload_regressions_and_fixes(
    client: httpx.AsyncClient, backend: Backend
) -> None:
    red = await member(client, "red")
    rhel = await topic(client)
    earlier = utcnow() - timedelta(hours=2)
    first = await job(backend, red, rhel["id"], configuration="ovn", created_at=earlier)
    other_config = await job(
        backend, red, rhel["id"], configuration="sdn", created_at=earlier + timedelta(hours=1)
    )
    second = await job(backend, red, rhel["id"], configuration="ovn")
    before = {"a": "success", "b": "failure", "c": "success", "d": "error"}
    after = {"a": "failure", "b": "success", "c": "success", "d": "error", "e": "skipped"}
    await upload(
        client,
        red.user,
        junit(before),
        name="tempest.xml",
        job_id=first["id"],
        mime="application/junit",
    )
    # A different configuration is not comparable: all its failures would be regressions.
    await upload(
        client,
        red.user,
        junit({"a": "success", "b": "success"}),
        name="tempest.xml",
        job_id=other_config["id"],
        mime="application/junit",
    )
    file = await upload(
        client,
        red.user,
        junit(after),
        name="tempest.xml",
        job_id=second["id"],
        mime="application/junit",
    )
    results = await client.get(
        f"/api/v1/jobs/{second['id']}/results?sort=-created_at&limit=50&offset=0", headers=red.user
    )
    assert results.status_code == 200, results.text
    [summary] = results.json()["results"]
    assert results.json()["_meta"]["count"] == 1
    expected = {"total": 5, "success": 2, "failures": 1, "errors": 1, "skips": 1}
    assert {k: summary[k] for k in expected} == expected
    assert (summary["regressions"], summary["successfixes"]) == (1, 1)
    assert summary["file_id"] == file["id"]
    assert summary["time"] == 2.5
    view = (await client.get(f"/api/v1/files/{file['id']}/junit", headers=red.user)).json()
    [suite] = view["testsuites"]
    flags = {c["name"]: (c["action"], c["regression"], c["successfix"]) for c in suite["testcases"]}
    assert flags["a"] == ("failure", True, False)
    assert flags["b"] == ("success", False, True)
    assert flags["d"] == ("error", False, False)
    assert (view["tests"], view["failures"], suite["tests"], suite["skipped"]) == (5, 1, 5, 1)
    embedded = await client.get(
        f"/api/v1/jobs/{second['id']}?embed=results,files", headers=red.user
    )
    assert embedded.status_code == 200, embedded.text
    shown = embedded.json()["job"]
    assert [r["id"] for r in shown["results"]] == [summary["id"]]
    assert [f["id"] for f in shown["files"]] == [file["id"]]


async def test_results_are_team_scoped(client: httpx.AsyncClient, backend: Backend) -> None:
    red, blue = await member(client, "red"), await member(client, "blue")
    made = await job(backend, red, (await topic(client))["id"])
    file = await upload(
        client, red.user, junit({"a": "success"}), job_id=made["id"], mime="application/junit"
    )
    assert (
        await client.get(f"/api/v1/jobs/{made['id']}/results", headers=blue.user)
    ).status_code == 404
    assert (
        await client.get(f"/api/v1/files/{file['id']}/junit", headers=blue.user)
    ).status_code == 404
    mine = await client.get(f"/api/v1/jobs/{made['id']}/results", headers=red.user)
    assert mine.json()["_meta"]["count"] == 1


async def test_subunit_and_tap_uploads(client: httpx.AsyncClient, backend: Backend) -> None:
    red = await member(client, "red")
    made = await job(backend, red, (await topic(client))["id"])
    tap = b"1..2\nok 1 - boots\nnot ok 2 - resizes\n"
    subunit_v1 = b"test: a.b\nsuccess: a.b\ntest: a.c\nskip: a.c\n"
    await upload(client, red.user, tap, name="t.tap", job_id=made["id"], mime="application/tap")
    await upload(
        client,
        red.user,
        subunit_v1,
        name="s.subunit",
        job_id=made["id"],
        mime="application/subunit",
    )
    await upload(client, red.user, b"plain", name="plain.txt", job_id=made["id"], mime="text/plain")
    results = (
        await client.get(f"/api/v1/jobs/{made['id']}/results?sort=name", headers=red.user)
    ).json()
    assert [(r["name"], r["total"], r["failures"], r["skips"]) for r in results["results"]] == [
        ("s.subunit", 2, 0, 1),
        ("t.tap", 2, 1, 0),
    ]
