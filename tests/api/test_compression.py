"""Answers go out gzip-compressed to clients that take gzip, whether computed or kept in memory
(api/compression.py); file contents and small answers go out as they are."""

from __future__ import annotations

import gzip
import json
from typing import Any

import httpx
from fastapi import FastAPI

from aerodrome.api.response_cache import ResponseCache
from tests.conftest import ADMIN, Backend
from tests.files.world import job, member, topic, upload
from tests.helpers import create, until_all_heard

GZIP = {**ADMIN, "Accept-Encoding": "gzip"}
PLAIN = {**ADMIN, "Accept-Encoding": "identity"}


async def _sent(client: httpx.AsyncClient, url: str, headers: dict[str, str]) -> tuple[Any, bytes]:
    request = client.build_request("GET", url, headers=headers)
    response = await client.send(request, stream=True)
    try:
        assert response.status_code == 200
        raw = b"".join([chunk async for chunk in response.aiter_raw()])
    finally:
        await response.aclose()
    return response.headers, raw


async def test_a_large_answer_is_compressed_computed_and_kept(
    backend: Backend, app: FastAPI, client: httpx.AsyncClient
) -> None:
    cache: ResponseCache = app.state.response_cache
    for i in range(40):
        await create(client, "components", {"name": f"component-{i:02}", "type": "t"})
    await until_all_heard(app)
    url = "/api/v1/components?where=type:t&sort=name&limit=40"
    hits = cache.hits
    plain_answers = [await _sent(client, url, PLAIN) for _ in range(3)]  # computed, then kept
    gzip_answers = [await _sent(client, url, GZIP) for _ in range(3)]  # compressed once
    assert cache.hits == hits + 5
    plain = plain_answers[0][1]
    assert len(plain) > 4096
    for headers, body in plain_answers:
        assert "content-encoding" not in headers
        assert headers.get_list("vary") == ["Accept-Encoding"]
        assert body == plain
    for headers, body in gzip_answers:
        assert headers["content-encoding"] == "gzip"
        assert headers.get_list("vary") == ["Accept-Encoding"]
        assert int(headers["content-length"]) == len(body)
        assert gzip.decompress(body) == plain
    kept = gzip_answers[-1][1]
    assert len(kept) * 5 < len(plain)
    names = [row["name"] for row in json.loads(gzip.decompress(kept))["components"]]
    assert names == [f"component-{i:02}" for i in range(40)]
    # An answer computed afresh (another page, after a write) is compressed on its way out.
    await create(client, "components", {"name": "component-40", "type": "t"})
    fresh_headers, fresh = await _sent(client, url + "&offset=1", GZIP)
    assert fresh_headers["content-encoding"] == "gzip"
    assert b"component-40" in gzip.decompress(fresh)


async def test_a_client_that_refuses_gzip_gets_the_answer_as_it_is(
    backend: Backend, app: FastAPI, client: httpx.AsyncClient
) -> None:
    for i in range(40):
        await create(client, "components", {"name": f"component-{i:02}", "type": "t"})
    url = "/api/v1/components?where=type:t&limit=40"
    # Each asked twice: computed (or kept by the request before), then given from memory.
    for accept in ("identity", "gzip;q=0", "br", "identity", "gzip;q=0", "br"):
        headers, body = await _sent(client, url, {**ADMIN, "Accept-Encoding": accept})
        assert "content-encoding" not in headers, accept
        assert len(json.loads(body)["components"]) == 40
    for accept in ("*", "br;q=1, gzip;q=0.5", "*", "br;q=1, gzip;q=0.5"):
        headers, body = await _sent(client, url, {**ADMIN, "Accept-Encoding": accept})
        assert headers["content-encoding"] == "gzip", accept
        assert len(json.loads(gzip.decompress(body))["components"]) == 40


async def test_small_answers_and_file_contents_go_out_as_they_are(
    backend: Backend, client: httpx.AsyncClient
) -> None:
    red = await member(client, "red")
    made = await job(backend, red, (await topic(client))["id"])
    content = b"a log line that compresses very well\n" * 10_000
    file = await upload(client, red.user, content, name="console.log", job_id=made["id"])
    takes_gzip = {**red.user, "Accept-Encoding": "gzip"}
    headers, body = await _sent(client, f"/api/v1/files/{file['id']}/content", takes_gzip)
    assert "content-encoding" not in headers
    assert int(headers["content-length"]) == len(body)
    assert body == content
    small_headers, small = await _sent(client, f"/api/v1/files/{file['id']}", takes_gzip)
    assert "content-encoding" not in small_headers
    assert json.loads(small)["file"]["size"] == len(content)
