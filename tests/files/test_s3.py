"""The S3 backend against a real S3 server process (moto's `moto_server`) started here:
single PUTs, multipart uploads, streamed reads, deletes, aborted uploads, and the HTTP API
running on it."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import boto3
import httpx
import pytest
from fastapi import FastAPI
from mypy_boto3_s3 import S3Client

from aerodrome.app import create_app
from aerodrome.files.storage import S3_PART_SIZE, S3Storage, StorageError
from aerodrome.settings import Settings
from tests.conftest import Backend
from tests.files.world import job, junit, member, topic, upload


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`moto_server` in its own process, until the session ends."""
    port = _free_port()
    log = (tmp_path_factory.mktemp("moto") / "moto.log").open("wb")
    command = [
        str(Path(sys.executable).with_name("moto_server")),
        "-H",
        "127.0.0.1",
        "-p",
        str(port),
    ]
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(url, timeout=1)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("moto_server did not start") from None
                time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=15)
        log.close()


def _settings(base: Settings, endpoint: str, bucket: str) -> Settings:
    return Settings(
        **{
            **base.model_dump(),
            "storage_backend": "s3",
            "s3_endpoint_url": endpoint,
            "s3_bucket": bucket,
            "s3_access_key": "testing",
            "s3_secret_key": "testing",
            "s3_region": "us-east-1",
        }
    )


@pytest.fixture
def bucket(s3_server: str) -> str:
    name = f"aerodrome-{uuid.uuid4().hex[:12]}"
    _client(s3_server).create_bucket(Bucket=name)
    return name


def _client(endpoint: str) -> S3Client:
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        region_name="us-east-1",
    )


async def _blocks(*blocks: bytes) -> AsyncIterator[bytes]:
    for block in blocks:
        yield block


async def _read(storage: S3Storage, key: str) -> bytes:
    return b"".join([block async for block in storage.read(key)])


async def test_small_and_multipart_contents_round_trip(s3_server: str, bucket: str) -> None:
    storage = S3Storage.from_settings(_settings(Settings(), s3_server, bucket))
    assert await storage.save("small", _blocks(b"hello ", b"world")) == 11
    assert await _read(storage, "small") == b"hello world"
    block = bytes(range(256)) * 4096  # 1 MiB
    blocks = [block] * (S3_PART_SIZE // len(block) * 2 + 3)  # two full parts and a short one
    size = await storage.save("large", _blocks(*blocks))
    assert size == len(block) * len(blocks)
    assert await _read(storage, "large") == b"".join(blocks)
    listed = storage.client.list_multipart_uploads(Bucket=bucket)
    assert not listed.get("Uploads")
    await storage.delete("large")
    with pytest.raises(StorageError):
        await _read(storage, "large")


async def test_a_failed_upload_leaves_nothing(s3_server: str, bucket: str) -> None:
    storage = S3Storage.from_settings(_settings(Settings(), s3_server, bucket))
    block = b"x" * (1024 * 1024)

    async def failing() -> AsyncIterator[bytes]:
        for _ in range(S3_PART_SIZE // len(block) + 1):
            yield block
        raise RuntimeError("client went away")

    with pytest.raises(RuntimeError):
        await storage.save("broken", failing())
    assert not storage.client.list_multipart_uploads(Bucket=bucket).get("Uploads")
    assert "Contents" not in storage.client.list_objects_v2(Bucket=bucket)


@pytest.fixture
async def s3_client(
    backend: Backend, s3_server: str, bucket: str
) -> AsyncIterator[tuple[httpx.AsyncClient, FastAPI]]:
    app = create_app(_settings(backend.settings, s3_server, bucket))
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http, app


async def test_the_api_on_s3(
    backend: Backend, s3_client: tuple[httpx.AsyncClient, FastAPI], bucket: str, s3_server: str
) -> None:
    client, _app = s3_client
    red = await member(client, "red")
    made = await job(backend, red, (await topic(client))["id"])
    content = junit({"a": "success", "b": "failure"})
    file = await upload(client, red.user, content, job_id=made["id"], mime="application/junit")
    stored = _client(s3_server).get_object(Bucket=bucket, Key=uuid.UUID(file["id"]).hex)
    assert stored["Body"].read() == content
    downloaded = await client.get(f"/api/v1/files/{file['id']}/content", headers=red.user)
    assert downloaded.content == content
    results = await client.get(f"/api/v1/jobs/{made['id']}/results", headers=red.user)
    assert results.json()["results"][0]["failures"] == 1
    bad = await client.post(
        "/api/v1/files",
        content=b"<oops",
        headers={
            **red.user,
            "DCI-NAME": "x",
            "DCI-JOB-ID": made["id"],
            "DCI-MIME": "application/junit",
        },
    )
    assert bad.status_code == 400
    keys = [o["Key"] for o in _client(s3_server).list_objects_v2(Bucket=bucket)["Contents"]]
    assert keys == [uuid.UUID(file["id"]).hex]
