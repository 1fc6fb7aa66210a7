"""Files over HTTP: upload with the DCI headers, list, show, streamed content, size limit,
team scoping, soft delete and purge (content removed after the commit), component files."""

from __future__ import annotations

import hashlib
import tracemalloc
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from aerodrome.files import service as files_service
from aerodrome.files.storage import FilesystemStorage
from tests.conftest import ADMIN, Backend
from tests.files.world import job, member, topic, upload
from tests.helpers import create


def _stored_blobs(backend: Backend) -> set[Path]:
    """The contents on disk (the data directory outlives each test's rows)."""
    root = backend.settings.data_dir / "files"
    return {p for p in root.glob("??/*") if p.is_file()} if root.exists() else set()


async def test_upload_list_show_and_download(client: httpx.AsyncClient, backend: Backend) -> None:
    red = await member(client, "red")
    rhel = await topic(client)
    made = await job(backend, red, rhel["id"])
    content = b"line\n" * 50_000
    file = await upload(client, red.user, content, name="console.log", job_id=made["id"])
    assert file["size"] == len(content)
    assert file["sha256"] == hashlib.sha256(content).hexdigest()
    assert file["job_id"] == made["id"]
    assert file["team_id"] == red.team["id"]
    assert file["mime"] == "application/octet-stream"
    assert "storage_key" not in file
    shown = await client.get(f"/api/v1/files/{file['id']}", headers=red.user)
    assert shown.json()["file"]["name"] == "console.log"
    downloaded = await client.get(f"/api/v1/files/{file['id']}/content", headers=red.user)
    assert downloaded.status_code == 200
    assert downloaded.content == content
    listed = await client.get(
        f"/api/v1/jobs/{made['id']}/files?sort=-created_at&where=name:console*", headers=red.user
    )
    assert [f["id"] for f in listed.json()["files"]] == [file["id"]]
    assert listed.json()["_meta"]["count"] == 1
    by_state = await client.get(
        f"/api/v1/jobs/{made['id']}/files?where=jobstate_id:{made['jobstate_id']}",
        headers=red.user,
    )
    assert by_state.json()["_meta"]["count"] == 0


async def test_upload_by_jobstate_id_and_mime(client: httpx.AsyncClient, backend: Backend) -> None:
    red = await member(client, "red")
    made = await job(backend, red, (await topic(client))["id"])
    file = await upload(
        client,
        ADMIN,
        b"{}",
        name="data.json",
        mime="application/json",
        **{"DCI-JOBSTATE-ID": made["jobstate_id"]},
    )
    assert file["job_id"] == made["id"]
    assert file["jobstate_id"] == made["jobstate_id"]
    assert file["mime"] == "application/json"


async def test_bad_uploads_are_4xx_and_store_nothing(
    client: httpx.AsyncClient, backend: Backend
) -> None:
    before = _stored_blobs(backend)
    red = await member(client, "red")
    made = await job(backend, red, (await topic(client))["id"])
    cases = [
        ({"DCI-JOB-ID": made["id"]}, 400, "DCI-NAME"),
        ({"DCI-NAME": "x"}, 400, "DCI-JOB-ID"),
        ({"DCI-NAME": "x", "DCI-JOB-ID": "not-a-uuid"}, 404, "not found"),
        ({"DCI-NAME": "x", "DCI-JOB-ID": made["id"], "DCI-MIME": "application/junit"}, 400, "XML"),
    ]
    for headers, status, message in cases:
        response = await client.post(
            "/api/v1/files", content=b"<not junit", headers={**red.user, **headers}
        )
        assert response.status_code == status, (headers, response.text)
        assert message in response.json()["message"]
    anonymous = await client.post(
        "/api/v1/files", content=b"x", headers={"DCI-NAME": "x", "DCI-JOB-ID": made["id"]}
    )
    assert anonymous.status_code == 401
    listed = await client.get("/api/v1/files", headers=ADMIN)
    assert listed.json()["_meta"]["count"] == 0
    assert _stored_blobs(backend) == before


async def test_size_limit_is_413_declared_or_streamed(
    app: FastAPI, client: httpx.AsyncClient, backend: Backend
) -> None:
    before = _stored_blobs(backend)
    red = await member(client, "red")
    made = await job(backend, red, (await topic(client))["id"])
    limit = 3 * 1024 * 1024
    settings = app.state.settings
    original = settings.max_file_size
    settings.max_file_size = limit
    try:
        declared = await client.post(
            "/api/v1/files",
            content=b"x" * (limit + 1),
            headers={**red.user, "DCI-NAME": "big", "DCI-JOB-ID": made["id"]},
        )
        assert declared.status_code == 413, declared.text

        async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: chunked
            for _ in range(4):
                yield b"y" * (1024 * 1024)

        streamed = await client.post(
            "/api/v1/files",
            content=chunks(),
            headers={**red.user, "DCI-NAME": "big", "DCI-JOB-ID": made["id"]},
        )
        assert streamed.status_code == 413, streamed.text
        assert streamed.json()["payload"]["max_file_size"] == limit
        fits = await upload(client, red.user, b"z" * limit, job_id=made["id"])
        assert fits["size"] == limit
    finally:
        settings.max_file_size = original
    # Larger than the JSON request limit, within the file limit: the middleware lets it in.
    large = b"w" * (settings.max_request_size + 1)
    assert (await upload(client, red.user, large, job_id=made["id"]))["size"] == len(large)
    too_large_json = await client.post(
        "/api/v1/teams", content=large, headers={**ADMIN, "Content-Type": "application/json"}
    )
    assert too_large_json.status_code == 413
    assert len(_stored_blobs(backend) - before) == 2
    assert not list((backend.settings.data_dir / "files" / ".incoming").iterdir())


async def test_other_teams_never_see_or_fetch_files(
    client: httpx.AsyncClient, backend: Backend
) -> None:
    red, blue = await member(client, "red"), await member(client, "blue")
    rhel = await topic(client)
    red_job = await job(backend, red, rhel["id"])
    secret = await upload(client, red.user, b"red secret", job_id=red_job["id"])
    _readers_team, reader = await _reader(client)
    for headers, visible in [(red.user, True), (reader, True), (blue.user, False)]:
        listed = (await client.get("/api/v1/files", headers=headers)).json()
        assert (listed["_meta"]["count"] == 1) is visible
        assert ([f["id"] for f in listed["files"]] == [secret["id"]]) is visible
        for path in ("", "/content", "/junit"):
            response = await client.get(f"/api/v1/files/{secret['id']}{path}", headers=headers)
            expected = (200, 404) if visible else (404,)
            assert response.status_code in expected, (path, response.text)
            if not visible:
                assert b"red secret" not in response.content
        job_files = await client.get(f"/api/v1/jobs/{red_job['id']}/files", headers=headers)
        assert job_files.status_code == (200 if visible else 404)
    stolen = await client.post(
        "/api/v1/files",
        content=b"x",
        headers={**blue.user, "DCI-NAME": "x", "DCI-JOB-ID": red_job["id"]},
    )
    assert stolen.status_code == 404
    read_only = await client.post(
        "/api/v1/files",
        content=b"x",
        headers={**reader, "DCI-NAME": "x", "DCI-JOB-ID": red_job["id"]},
    )
    assert read_only.status_code == 403


async def _reader(client: httpx.AsyncClient) -> tuple[dict[str, object], dict[str, str]]:
    from tests.helpers import team_with_user

    return await team_with_user(client, "readers", "rita", reads_all=True)


async def test_delete_archives_and_purge_removes_content(
    client: httpx.AsyncClient, backend: Backend
) -> None:
    before = _stored_blobs(backend)
    red = await member(client, "red")
    made = await job(backend, red, (await topic(client))["id"])
    file = await upload(client, red.user, b"bye", job_id=made["id"])
    path = f"/api/v1/files/{file['id']}"
    stale = await client.delete(path, headers={**red.user, "If-Match": "stale"})
    assert stale.status_code == 412
    gone = await client.delete(path, headers={**red.user, "If-Match": file["etag"]})
    assert gone.status_code == 204
    assert (await client.get(path, headers=red.user)).status_code == 404
    # dcictl's file-delete sends no If-Match: a file never changes, so none is needed.
    other = await upload(client, red.user, b"log", job_id=made["id"])
    other_path = f"/api/v1/files/{other['id']}"
    assert (await client.delete(other_path, headers=red.user)).status_code == 204
    assert (await client.get(other_path, headers=red.user)).status_code == 404
    assert len(_stored_blobs(backend) - before) == 2  # kept until purged
    archived = await client.get("/api/v1/files/purge", headers=ADMIN)
    assert [f["id"] for f in archived.json()["files"]] == [file["id"], other["id"]]
    assert (await client.post("/api/v1/files/purge", headers=red.user)).status_code == 403
    assert (await client.post("/api/v1/files/purge", headers=ADMIN)).status_code == 204
    assert (await client.get("/api/v1/files/purge", headers=ADMIN)).json()["files"] == []
    assert _stored_blobs(backend) == before


async def test_purging_jobs_archives_their_files_for_the_files_purge(
    client: httpx.AsyncClient, backend: Backend
) -> None:
    before = _stored_blobs(backend)
    red = await member(client, "red")
    made = await job(backend, red, (await topic(client))["id"])
    by_job = await upload(client, red.user, b"log", job_id=made["id"])
    by_state = await upload(
        client, red.user, b"state log", name="s.txt", **{"DCI-JOBSTATE-ID": made["jobstate_id"]}
    )
    shown = await client.get(f"/api/v1/jobs/{made['id']}", headers=ADMIN)
    archive = {**ADMIN, "If-Match": shown.json()["job"]["etag"]}
    assert (await client.delete(f"/api/v1/jobs/{made['id']}", headers=archive)).status_code == 204
    assert (await client.post("/api/v1/jobs/purge", headers=ADMIN)).status_code == 204
    assert (await client.get(f"/api/v1/jobs/{made['id']}", headers=ADMIN)).status_code == 404
    archived = (await client.get("/api/v1/files/purge", headers=ADMIN)).json()["files"]
    assert {f["id"] for f in archived} == {by_job["id"], by_state["id"]}
    assert {(f["job_id"], f["jobstate_id"]) for f in archived} == {(None, None)}
    assert (await client.post("/api/v1/files/purge", headers=ADMIN)).status_code == 204
    assert _stored_blobs(backend) == before


async def test_component_files(client: httpx.AsyncClient, backend: Backend) -> None:
    red, blue = await member(client, "red"), await member(client, "blue")
    public = await create(client, "components", {"name": "rhel-9.4", "type": "rhel"})
    private = await create(
        client, "components", {"name": "red-only", "type": "rhel", "team_id": red.team["id"]}
    )
    iso = await _component_upload(client, ADMIN, public["id"], b"ISO", name="rhel.iso")
    assert iso["visibility"] == "public"
    assert iso["component_id"] == public["id"]
    denied = await client.post(
        f"/api/v1/components/{public['id']}/files", content=b"x", headers=blue.user
    )
    assert denied.status_code == 403
    red_file = await _component_upload(client, red.user, private["id"], b"RED")
    assert red_file["visibility"] == "private"
    for headers, names in [(blue.user, {"rhel.iso"}), (red.user, {"rhel.iso", red_file["name"]})]:
        listed = (await client.get("/api/v1/files", headers=headers)).json()
        assert {f["name"] for f in listed["files"]} == names
    base = f"/api/v1/components/{public['id']}/files"
    assert (await client.get(base, headers=blue.user)).json()["_meta"]["count"] == 1
    content = await client.get(f"{base}/{iso['id']}/content", headers=blue.user)
    assert content.content == b"ISO"
    assert (await client.get(f"{base}/{iso['id']}", headers=blue.user)).status_code == 200
    other = f"/api/v1/components/{private['id']}/files"
    assert (await client.get(other, headers=blue.user)).status_code == 404
    assert (await client.get(f"{other}/{red_file['id']}", headers=blue.user)).status_code == 404
    wrong_parent = await client.get(f"{base}/{red_file['id']}", headers=red.user)
    assert wrong_parent.status_code == 404
    deleted = await client.delete(f"{base}/{iso['id']}", headers={**ADMIN, "If-Match": iso["etag"]})
    assert deleted.status_code == 204
    assert (await client.get(base, headers=blue.user)).json()["_meta"]["count"] == 0


async def _component_upload(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    component_id: str,
    content: bytes,
    *,
    name: str | None = None,
) -> dict[str, Any]:
    sent = {**headers, **({"DCI-NAME": name} if name else {})}
    response = await client.post(
        f"/api/v1/components/{component_id}/files", content=content, headers=sent
    )
    assert response.status_code == 201, response.text
    file: dict[str, Any] = response.json()["file"]
    return file


def test_filesystem_store_is_what_the_backend_uses(backend: Backend) -> None:
    from aerodrome.files.storage import build_storage

    store = build_storage(backend.settings)
    assert isinstance(store, FilesystemStorage)
    assert store.root == backend.settings.data_dir / "files"


async def test_a_failed_recording_leaves_no_content(
    client: httpx.AsyncClient, backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = _stored_blobs(backend)
    red = await member(client, "red")
    made = await job(backend, red, (await topic(client))["id"])

    async def broken(*_args: object, **_kwargs: object) -> dict[str, Any]:
        raise RuntimeError("the database went away")

    monkeypatch.setattr(files_service, "record", broken)
    response = await client.post(
        "/api/v1/files",
        content=b"lost",
        headers={**red.user, "DCI-NAME": "x", "DCI-JOB-ID": made["id"]},
    )
    assert response.status_code == 500
    assert _stored_blobs(backend) == before


async def test_a_large_upload_is_never_held_in_memory(
    client: httpx.AsyncClient, backend: Backend
) -> None:
    red = await member(client, "red")
    made = await job(backend, red, (await topic(client))["id"])
    chunk = bytes(range(256)) * 256  # 64 KiB
    count = 640  # 40 MiB

    async def body() -> AsyncIterator[bytes]:
        for _ in range(count):
            yield chunk

    tracemalloc.start()
    try:
        response = await client.post(
            "/api/v1/files",
            content=body(),
            headers={**red.user, "DCI-NAME": "big.bin", "DCI-JOB-ID": made["id"]},
        )
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert response.status_code == 201, response.text
    assert response.json()["file"]["size"] == len(chunk) * count
    # About 8.5 MiB whatever the size (the same at 40 and 80 MiB): blocks in flight, the
    # test client's own buffers and first-use allocations, never the whole body.
    assert peak < 16 * 1024 * 1024, peak
    expected = hashlib.sha256(chunk * count).hexdigest()
    assert response.json()["file"]["sha256"] == expected


async def test_missing_content_is_an_error_not_a_cut_download(
    client: httpx.AsyncClient, backend: Backend
) -> None:
    red = await member(client, "red")
    made = await job(backend, red, (await topic(client))["id"])
    file = await upload(client, red.user, b"soon gone", job_id=made["id"])
    FilesystemStorage(backend.settings.data_dir / "files").path(uuid.UUID(file["id"]).hex).unlink()
    response = await client.get(f"/api/v1/files/{file['id']}/content", headers=red.user)
    assert response.status_code == 500
    assert response.json()["message"] == f"the content of file {file['id']} is missing"
