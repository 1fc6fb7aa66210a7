"""Builders for file tests: teams with a user and a remoteci, and jobs inserted directly (the
jobs API belongs to another domain; its rows are all a file needs)."""

from __future__ import annotations

import uuid
from collections.abc import Generator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl

import httpx
from dciauth.v2.headers import generate_headers
from sqlalchemy import insert

from aerodrome.db.types import utcnow
from aerodrome.work.models import Job, Jobstate
from tests.conftest import Backend
from tests.helpers import create, team_with_user


@dataclass
class Member:
    team: dict[str, Any]
    user: dict[str, str]
    remoteci: dict[str, Any]


async def member(client: httpx.AsyncClient, name: str) -> Member:
    team, user = await team_with_user(client, f"team-{name}", f"user-{name}")
    remoteci = await create(client, "remotecis", {"name": f"ci-{name}", "team_id": team["id"]})
    return Member(team, user, remoteci)


async def topic(client: httpx.AsyncClient, name: str = "RHEL-9") -> dict[str, Any]:
    return await create(client, "topics", {"name": name, "component_types": ["rhel"]})


async def job(
    backend: Backend,
    owner: Member,
    topic_id: str,
    *,
    name: str = "daily",
    configuration: str | None = None,
    created_at: datetime | None = None,
) -> dict[str, Any]:
    """A job row of `owner`'s team and remoteci, with one job state."""
    now = created_at or utcnow()
    values = {
        "id": uuid.uuid4(),
        "created_at": now,
        "updated_at": now,
        "etag": uuid.uuid4().hex,
        "state": "active",
        "name": name,
        "status": "running",
        "team_id": uuid.UUID(owner.team["id"]),
        "remoteci_id": uuid.UUID(owner.remoteci["id"]),
        "topic_id": uuid.UUID(topic_id),
        "configuration": configuration,
        "tags": [],
        "data": {},
    }
    state = {
        "id": uuid.uuid4(),
        "created_at": now + timedelta(microseconds=1),
        "job_id": values["id"],
        "team_id": values["team_id"],
        "status": "running",
    }
    async with backend.database.unit_of_work() as session:
        await session.execute(insert(Job.__table__), [values])
        await session.execute(insert(Jobstate.__table__), [state])
    return {"id": str(values["id"]), "jobstate_id": str(state["id"])}


async def upload(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    content: bytes,
    *,
    name: str = "log.txt",
    job_id: str | None = None,
    mime: str | None = None,
    expect: int = 201,
    **extra: str,
) -> dict[str, Any]:
    sent = {**headers, "DCI-NAME": name, **extra}
    if job_id:
        sent["DCI-JOB-ID"] = job_id
    if mime:
        sent["DCI-MIME"] = mime
    response = await client.post("/api/v1/files", content=content, headers=sent)
    assert response.status_code == expect, response.text
    body: dict[str, Any] = response.json()
    file: dict[str, Any] = body.get("file", body)
    return file


def junit(cases: dict[str, str], *, suite: str = "tempest") -> bytes:
    """A JUnit document: case name → "success", "failure", "error" or "skipped"."""
    children = {
        "success": "",
        "failure": '<failure message="assert" type="AssertionError">Traceback</failure>',
        "error": '<error message="boom" type="RuntimeError">stack</error>',
        "skipped": '<skipped message="not today"/>',
    }
    body = "".join(
        f'<testcase classname="{suite}.Tests" name="{name}" time="0.5">{children[action]}'
        "</testcase>"
        for name, action in cases.items()
    )
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><testsuites><testsuite name="{suite}" '
        f'tests="{len(cases)}">{body}</testsuite></testsuites>'
    ).encode()


class Signed(httpx.Auth):
    """DCI2-HMAC-SHA256 signatures made with dciauth, as dciclient makes them."""

    requires_request_body = True

    def __init__(
        self, agent: dict[str, Any], *, body: bytes | None = None, kind: str = "remoteci"
    ) -> None:
        self.access_key = f"{kind}/{agent['id']}"
        self.secret = str(agent["api_secret"])
        self.body = body  # sign this instead of the real body (a tampering client)

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        signed = generate_headers(
            {
                "method": request.method,
                "endpoint": request.url.path,
                "params": dict(parse_qsl(request.url.query.decode())),
                "host": request.url.netloc.decode(),
                "data": request.content if self.body is None else self.body,
            },
            {"access_key": self.access_key, "secret_key": self.secret},
        )
        request.headers.update(signed)
        yield request
