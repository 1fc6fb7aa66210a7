"""Every failure is a JSON `{"status_code", "message", "payload"}`, and changes nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator, MutableMapping
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from aerodrome.catalog import service as catalog_service
from tests.conftest import ADMIN
from tests.helpers import create, team_with_user


def _is_error(response: httpx.Response, status: int) -> dict[str, object]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    body: dict[str, object] = response.json()
    assert set(body) == {"status_code", "message", "payload"}
    assert body["status_code"] == status
    return body


async def test_unknown_route_is_404_json(client: httpx.AsyncClient) -> None:
    body = _is_error(await client.get("/api/v1/nothing-here", headers=ADMIN), 404)
    assert body["message"] == "not found"


async def test_wrong_method_is_405_json(client: httpx.AsyncClient) -> None:
    body = _is_error(await client.patch("/api/v1/componenttypes", headers=ADMIN), 405)
    assert body["message"] == "method not allowed"


async def test_body_over_the_limit_is_413(client: httpx.AsyncClient, app: FastAPI) -> None:
    limit = app.state.settings.max_request_size
    payload = b'{"name": "' + b"x" * limit + b'"}'
    response = await client.post(
        "/api/v1/componenttypes",
        content=payload,
        headers={**ADMIN, "Content-Type": "application/json"},
    )
    assert _is_error(response, 413)["payload"] == {"max_bytes": limit}

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: counted as it streams
        yield payload[: limit // 2]
        yield payload[limit // 2 :]

    streamed = await client.post(
        "/api/v1/componenttypes",
        content=chunks(),
        headers={**ADMIN, "Content-Type": "application/json"},
    )
    assert _is_error(streamed, 413)["message"] == f"request body larger than {limit} bytes"
    listed = await client.get("/api/v1/componenttypes", headers=ADMIN)
    assert listed.json()["_meta"]["count"] == 0


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"{not json", "invalid request"),
        (b'{"name": 3}', "name: Input should be a valid string"),
        (b"{}", "name: Field required"),
        (b'{"name": "a", "colour": "red"}', "colour: Extra inputs are not permitted"),
        (b'{"name": "a", "state": "melted"}', "state: Input should be 'active' or 'inactive'"),
    ],
)
async def test_invalid_bodies_are_400_naming_the_field(
    client: httpx.AsyncClient, content: bytes, expected: str
) -> None:
    response = await client.post(
        "/api/v1/componenttypes",
        content=content,
        headers={**ADMIN, "Content-Type": "application/json"},
    )
    body = _is_error(response, 400)
    assert expected in str(body["message"])
    assert (await client.get("/api/v1/componenttypes", headers=ADMIN)).json()["_meta"]["count"] == 0


async def test_bad_uuid_in_body_is_400(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/v1/components", json={"name": "a", "type": "t", "team_id": "nope"}, headers=ADMIN
    )
    assert "team_id" in str(_is_error(response, 400)["message"])


async def test_unexpected_exception_is_500_without_trace(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def explode(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(catalog_service.componenttype_service, "prepare_create", explode)
    response = await client.post("/api/v1/componenttypes", json={"name": "a"}, headers=ADMIN)
    body = _is_error(response, 500)
    assert body["message"] == "internal server error"
    assert "secret" not in response.text
    assert "Traceback" not in response.text


async def test_failed_write_leaves_nothing_behind(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The insert ran, then the request failed: the whole unit of work is rolled back."""
    original = catalog_service.component_service.create

    async def create_then_fail(*args: object, **kwargs: object) -> None:
        await original(*args, **kwargs)  # type: ignore[arg-type]
        raise RuntimeError("after the insert")

    monkeypatch.setattr(catalog_service.component_service, "create", create_then_fail)
    response = await client.post(
        "/api/v1/components", json={"name": "a", "type": "t"}, headers=ADMIN
    )
    _is_error(response, 500)
    monkeypatch.undo()
    assert (await client.get("/api/v1/components", headers=ADMIN)).json()["_meta"]["count"] == 0


async def test_failing_commit_answers_5xx_and_keeps_nothing(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def failing_commit(self: AsyncSession) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(AsyncSession, "commit", failing_commit)
    response = await client.post("/api/v1/componenttypes", json={"name": "a"}, headers=ADMIN)
    monkeypatch.undo()
    _is_error(response, 500)
    assert (await client.get("/api/v1/componenttypes", headers=ADMIN)).json()["_meta"]["count"] == 0


async def test_update_rejected_by_validation_changes_nothing(client: httpx.AsyncClient) -> None:
    row = await create(client, "componenttypes", {"name": "a"})
    response = await client.put(
        f"/api/v1/componenttypes/{row['id']}",
        json={"name": ""},
        headers={**ADMIN, "If-Match": row["etag"]},
    )
    _is_error(response, 400)
    shown = (await client.get(f"/api/v1/componenttypes/{row['id']}", headers=ADMIN)).json()
    assert shown["componenttype"]["etag"] == row["etag"]


async def test_authentication_errors(client: httpx.AsyncClient) -> None:
    anonymous = await client.get("/api/v1/componenttypes")
    body = _is_error(anonymous, 401)
    assert body["message"] == "authentication required"
    assert anonymous.headers["www-authenticate"].startswith("Basic")
    wrong = await client.get(
        "/api/v1/componenttypes", headers={"Authorization": "Basic YWRtaW46bm9wZQ=="}
    )
    assert _is_error(wrong, 401)["message"] == "invalid credentials"
    garbage = await client.get("/api/v1/componenttypes", headers={"Authorization": "Basic !!"})
    assert _is_error(garbage, 401)["message"] == "malformed Basic credentials"
    scheme = await client.get("/api/v1/componenttypes", headers={"Authorization": "Digest x"})
    assert "unsupported authorization scheme" in str(_is_error(scheme, 401)["message"])


async def test_item_parameters_and_purge_permissions(client: httpx.AsyncClient) -> None:
    row = await create(client, "componenttypes", {"name": "a"})
    unknown = await client.get(f"/api/v1/componenttypes/{row['id']}?colour=red", headers=ADMIN)
    assert "valid parameters: embed" in str(_is_error(unknown, 400)["message"])
    _team, rosa = await team_with_user(client, "red", "rosa")
    assert _is_error(await client.post("/api/v1/componenttypes/purge", headers=rosa), 403)
    assert _is_error(await client.get("/api/v1/componenttypes/purge", headers=rosa), 403)
    anonymous = await client.post("/api/v1/componenttypes", json={"name": "b"})
    assert _is_error(anonymous, 401)["message"] == "authentication required"


async def test_null_for_a_required_field_is_400(client: httpx.AsyncClient) -> None:
    row = await create(client, "components", {"name": "a", "type": "t", "url": "https://x"})
    headers = {**ADMIN, "If-Match": row["etag"]}
    for body in ({"name": None}, {"version": None}, {"data": None, "tags": None}):
        response = await client.put(f"/api/v1/components/{row['id']}", json=body, headers=headers)
        assert "may not be null" in str(_is_error(response, 400)["message"])
    cleared = await client.put(
        f"/api/v1/components/{row['id']}", json={"url": None}, headers=headers
    )
    assert cleared.json()["component"]["url"] is None
    me = (await client.get("/api/v1/users/admin", headers=ADMIN)).json()["user"]
    no_password = await client.put(
        f"/api/v1/users/{me['id']}",
        json={"password": None},
        headers={**ADMIN, "If-Match": me["etag"]},
    )
    assert str(_is_error(no_password, 400)["message"]).endswith("password may not be null")


async def test_free_form_data_keeps_big_numbers_exactly(client: httpx.AsyncClient) -> None:
    data = {"big": 1357809965071581504765404643328, "small": -7154, "f": 1e-05, "u": "é\u2028"}
    row = await create(client, "components", {"name": "a", "type": "t", "data": data})
    shown = await client.get(f"/api/v1/components/{row['id']}", headers=ADMIN)
    assert shown.json()["component"]["data"] == data


async def test_nul_characters_are_400(client: httpx.AsyncClient) -> None:
    for body in (
        {"name": "a\u0000b", "type": "t"},
        {"name": "a", "type": "t", "data": {"k": ["\u0000"]}},
    ):
        response = await client.post("/api/v1/components", json=body, headers=ADMIN)
        assert "NUL" in str(_is_error(response, 400)["message"])

    for path in ("/api/v1/componenttypes/a%00b", "/api/v1/componenttypes?where=name:a%00"):
        assert "NUL" in str(_is_error(await client.get(path, headers=ADMIN), 400)["message"])


@pytest.mark.parametrize("content_type", [None, "application/x-www-form-urlencoded"])
async def test_json_without_a_json_content_type_is_accepted(
    client: httpx.AsyncClient, content_type: str | None
) -> None:
    headers = {**ADMIN, **({"Content-Type": content_type} if content_type else {})}
    created = await client.post(
        "/api/v1/componenttypes", content=b'{"name": "curl"}', headers=headers
    )
    assert created.status_code == 201, created.text
    form = await client.post("/api/v1/componenttypes", content=b"name=form", headers=headers)
    assert "JSON decode error" in str(_is_error(form, 400)["message"])


@pytest.mark.parametrize(
    "path", ["/api/v1/componenttypes", "/paddles/runs/hung-up/jobs/"], ids=["native", "paddles"]
)
async def test_client_hanging_up_mid_body_is_no_server_error(
    app: FastAPI, client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture, path: str
) -> None:
    """A client that disconnects while sending its body is not a 500 with a traceback, and
    the write does not happen."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"testserver"), (b"content-type", b"application/json")]
        + [(k.lower().encode(), v.encode()) for k, v in ADMIN.items()]
        + [(b"content-length", b"100")],
        "client": ("127.0.0.1", 1234),
        "server": ("testserver", 80),
    }
    messages = iter([{"type": "http.request", "body": b'{"name": "hung', "more_body": True}])

    async def receive() -> dict[str, object]:
        return next(messages, {"type": "http.disconnect"})

    sent: list[dict[str, object]] = []

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(dict(message))

    with caplog.at_level("INFO", logger="aerodrome.errors"):
        await app(scope, receive, send)
    assert not [r for r in caplog.records if r.levelname in ("ERROR", "CRITICAL")]
    assert sent[0]["status"] == 400
    listed = await client.get("/api/v1/componenttypes?where=name:hung", headers=ADMIN)
    assert listed.json()["_meta"]["count"] == 0
    runs = await client.get("/paddles/runs/", headers=ADMIN)
    assert runs.json() == []
