"""Uploads signed by remotecis (DCI2-HMAC-SHA256): the signature covers the body, which is
checked against the sha256 computed while it streamed, never read into memory first."""

from __future__ import annotations

import hashlib
import os
import uuid
from datetime import timedelta

import httpx
import pytest
from dciauth.v2.headers import generate_headers

from aerodrome.identity.signature import (
    SignatureError,
    parse_signature_claim,
    verify_signature,
    verify_upload_signature,
)
from tests.conftest import ADMIN, Backend
from tests.files.world import Signed, job, member, topic
from tests.helpers import create


@pytest.mark.parametrize("size", [0, 1, 70_000, 1_500_000])
def test_agrees_with_the_in_memory_verifier(size: int) -> None:
    body = os.urandom(size)
    query = "where=name%3Afoo&limit=2"
    signed = generate_headers(
        {
            "method": "POST",
            "endpoint": "/api/v1/files",
            "params": {"where": "name:foo", "limit": "2"},
            "host": "ci.example.org:8443",
            "data": body,
        },
        {"access_key": f"remoteci/{uuid.uuid4()}", "secret_key": "s3cret"},
    )
    headers = {"host": "ci.example.org:8443", **{k.lower(): v for k, v in signed.items()}}
    claim = parse_signature_claim(headers)
    assert claim is not None
    common = {"method": "POST", "path": "/api/v1/files", "query_string": query, "headers": headers}
    verify_signature(claim, body=body, secret="s3cret", **common)  # type: ignore[arg-type]
    digest = hashlib.sha256(body).hexdigest()
    skew = timedelta(minutes=15)
    verify_upload_signature(claim, body_sha256=digest, secret="s3cret", max_skew=skew, **common)  # type: ignore[arg-type]
    for wrong in ({"body_sha256": hashlib.sha256(body + b"!").hexdigest(), "secret": "s3cret"},
                  {"body_sha256": digest, "secret": "other"}):  # fmt: skip
        with pytest.raises(SignatureError):
            verify_upload_signature(claim, max_skew=skew, **wrong, **common)  # type: ignore[arg-type]


async def test_remoteci_uploads_signed(client: httpx.AsyncClient, backend: Backend) -> None:
    red = await member(client, "red")
    made = await job(backend, red, (await topic(client))["id"])
    body = os.urandom(300_000)
    headers = {"DCI-NAME": "signed.bin", "DCI-JOB-ID": made["id"]}
    ok = await client.post(
        "/api/v1/files", content=body, headers=headers, auth=Signed(red.remoteci)
    )
    assert ok.status_code == 201, ok.text
    assert ok.json()["file"]["sha256"] == hashlib.sha256(body).hexdigest()
    tampered = await client.post(
        "/api/v1/files", content=body, headers=headers, auth=Signed(red.remoteci, body=b"other")
    )
    assert tampered.status_code == 401
    assert "signature does not match" in tampered.json()["message"]
    stranger = {**red.remoteci, "id": str(uuid.uuid4())}
    unknown = await client.post(
        "/api/v1/files", content=body, headers=headers, auth=Signed(stranger)
    )
    assert unknown.status_code == 401
    listed = await client.get(f"/api/v1/jobs/{made['id']}/files", headers=ADMIN)
    assert [f["name"] for f in listed.json()["files"]] == ["signed.bin"]


async def test_remoteci_of_another_team_cannot_upload(
    client: httpx.AsyncClient, backend: Backend
) -> None:
    red, blue = await member(client, "red"), await member(client, "blue")
    made = await job(backend, red, (await topic(client))["id"])
    response = await client.post(
        "/api/v1/files",
        content=b"x",
        headers={"DCI-NAME": "x", "DCI-JOB-ID": made["id"]},
        auth=Signed(blue.remoteci),
    )
    assert response.status_code == 404


async def test_feeder_publishes_a_public_component_file(client: httpx.AsyncClient) -> None:
    red = await member(client, "red")
    feeder = await create(client, "feeders", {"name": "rhel-feeder", "team_id": red.team["id"]})
    component = await create(client, "components", {"name": "rhel-9.4", "type": "rhel"})
    path = f"/api/v1/components/{component['id']}/files"
    body = os.urandom(5000)
    published = await client.post(
        path, content=body, headers={"DCI-NAME": "rhel.iso"}, auth=Signed(feeder, kind="feeder")
    )
    assert published.status_code == 201, published.text
    assert published.json()["file"]["visibility"] == "public"
    by_remoteci = await client.post(
        path, content=body, headers={"DCI-NAME": "x.iso"}, auth=Signed(red.remoteci)
    )
    assert by_remoteci.status_code == 403
    fetched = await client.get(
        f"{path}/{published.json()['file']['id']}/content", auth=Signed(red.remoteci)
    )
    assert fetched.content == body
