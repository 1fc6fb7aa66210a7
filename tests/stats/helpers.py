"""Signing NFSS submissions the way the generated submitter script does (oauthlib)."""

from __future__ import annotations

import json
from typing import Any

import httpx
from oauthlib.oauth1 import SIGNATURE_HMAC_SHA1, Client

from aerodrome.stats import keys
from tests.conftest import Backend


async def client_key(backend: Backend, name: str = "perf-lab") -> dict[str, Any]:
    async with backend.database.unit_of_work() as session:
        return await keys.add_key(session, name=name, contact="lab@example.org")


def signed(
    url: str, data: Any, key: dict[str, Any], **client: Any
) -> tuple[str, dict[str, str], str]:
    signer = Client(
        key["key"], client_secret=key["secret"], signature_method=SIGNATURE_HMAC_SHA1, **client
    )
    uri, headers, body = signer.sign(
        url, http_method="POST", body=json.dumps(data), headers={"Content-Type": "application/json"}
    )
    return uri, headers, body


async def submit(
    http: httpx.AsyncClient, path: str, data: Any, key: dict[str, Any], **client: Any
) -> httpx.Response:
    uri, headers, body = signed(f"http://testserver{path}", data, key, **client)
    return await http.post(uri, content=body, headers=headers)
