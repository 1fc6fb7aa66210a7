"""`AccessLogMiddleware`, `JsonLogFormatter` and `configure_logging`."""

from __future__ import annotations

import json
import logging
import logging.config
import re
import sys
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request

from aerodrome.ops.access_log import (
    HANDLER_NAME,
    AccessLogMiddleware,
    JsonLogFormatter,
    configure_logging,
    logging_config,
)

ACCESS = "aerodrome.access"
SECRET_TOKEN = "Bearer sk-very-secret-token"
SECRETS = ("sk-very-secret-token", "query-secret", "cookie-secret")


def build_app() -> FastAPI:
    """Routes with a path parameter, failing, and telling the request id it sees."""
    app = FastAPI()

    @app.get("/items/{item_id}")
    async def item(item_id: int) -> dict[str, int]:
        return {"id": item_id}

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("handler failure")

    @app.get("/request-id")
    async def request_id(request: Request) -> dict[str, str]:
        return {"request_id": request.state.request_id}

    app.add_middleware(AccessLogMiddleware)
    return app


def client(*, raise_app_exceptions: bool = True) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=build_app(), raise_app_exceptions=raise_app_exceptions)
    return httpx.AsyncClient(transport=transport, base_url="http://test")


def access_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [record for record in caplog.records if record.name == ACCESS]


def only_line(caplog: pytest.LogCaptureFixture) -> dict[str, Any]:
    """The one access log record, as the JSON formatter writes it."""
    (record,) = access_records(caplog)
    line = JsonLogFormatter().format(record)
    assert "\n" not in line
    document = json.loads(line)
    assert isinstance(document, dict)
    return document


@pytest.fixture
def access_log(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    with caplog.at_level(logging.INFO, logger=ACCESS):
        yield caplog


async def test_one_json_line_per_request_with_every_field(
    access_log: pytest.LogCaptureFixture,
) -> None:
    async with client() as http:
        response = await http.get("/items/42?page=2", headers={"User-Agent": "pytest-agent"})
    line = only_line(access_log)
    assert line["level"] == "info"
    assert line["logger"] == ACCESS
    assert datetime.fromisoformat(line["ts"]).utcoffset() == timedelta(0)
    assert line["method"] == "GET"
    assert line["path"] == "/items/42"
    assert line["route"] == "/items/{item_id}"
    assert line["status"] == 200
    assert isinstance(line["duration_ms"], float)
    assert line["duration_ms"] >= 0
    assert round(line["duration_ms"], 2) == line["duration_ms"]
    assert line["client"] == "127.0.0.1"
    assert line["request_id"] == response.headers["x-request-id"]
    assert line["user_agent"] == "pytest-agent"
    assert line["bytes"] == len(response.content) > 0


async def test_no_secret_reaches_the_log(access_log: pytest.LogCaptureFixture) -> None:
    headers = {"Authorization": SECRET_TOKEN, "Cookie": "session=cookie-secret"}
    async with client() as http:
        await http.get("/items/1?token=query-secret&page=2", headers=headers)
    (record,) = access_records(access_log)
    written = JsonLogFormatter().format(record) + access_log.text
    for secret in (*SECRETS, "Bearer", "token=", "page=2"):
        assert secret not in written
    assert "authorization" not in {key.lower() for key in only_line(access_log)}


async def test_unmatched_paths_are_logged_as_such(access_log: pytest.LogCaptureFixture) -> None:
    async with client() as http:
        assert (await http.get("/no/such/page")).status_code == 404
    line = only_line(access_log)
    assert (line["path"], line["route"], line["status"]) == ("/no/such/page", "unmatched", 404)


async def test_a_failing_handler_is_logged_as_500(access_log: pytest.LogCaptureFixture) -> None:
    async with client() as http:
        with pytest.raises(RuntimeError, match="handler failure"):
            await http.get("/boom")
    line = only_line(access_log)
    assert (line["route"], line["status"]) == ("/boom", 500)


async def test_a_sane_request_id_is_echoed(access_log: pytest.LogCaptureFixture) -> None:
    given = "Trace_1.2-" + "x" * 54  # 64 characters: the longest accepted
    async with client() as http:
        response = await http.get("/request-id", headers={"X-Request-ID": given})
    assert response.headers["x-request-id"] == given
    assert response.json() == {"request_id": given}
    assert only_line(access_log)["request_id"] == given


async def test_a_request_id_is_generated_when_missing(
    access_log: pytest.LogCaptureFixture,
) -> None:
    async with client() as http:
        first = await http.get("/request-id")
        second = await http.get("/request-id")
    ids = [first.headers["x-request-id"], second.headers["x-request-id"]]
    assert all(re.fullmatch("[0-9a-f]{32}", request_id) for request_id in ids)
    assert ids[0] != ids[1]
    assert first.json() == {"request_id": ids[0]}
    logged = [record.__dict__["fields"]["request_id"] for record in access_records(access_log)]
    assert logged == ids


@pytest.mark.parametrize(
    "given", ["x" * 65, "has space", "semi;colon", "slash/path", '{"json": 1}', ""]
)
async def test_an_insane_request_id_is_replaced(
    access_log: pytest.LogCaptureFixture, given: str
) -> None:
    async with client() as http:
        response = await http.get("/request-id", headers={"X-Request-ID": given})
    replaced = response.headers["x-request-id"]
    assert re.fullmatch("[0-9a-f]{32}", replaced)
    assert only_line(access_log)["request_id"] == replaced


async def test_nothing_is_built_when_the_access_log_is_off(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger=ACCESS):
        async with client() as http:
            response = await http.get("/items/3")
    assert response.headers["x-request-id"]
    assert access_records(caplog) == []


def record_with(**extra: Any) -> logging.LogRecord:
    logger = logging.getLogger("tests.formatter")
    return logger.makeRecord(
        logger.name, logging.WARNING, __file__, 1, "hello %s", ("world",), None, extra=extra
    )


def test_formatter_merges_the_fields_without_overwriting_its_own() -> None:
    record = record_with(fields={"job": 7, "level": "forged", "when": datetime(2024, 1, 2)})
    document = json.loads(JsonLogFormatter().format(record))
    assert document["message"] == "hello world"
    assert document["level"] == "warning"
    assert document["job"] == 7
    assert document["when"] == "2024-01-02T00:00:00"


def test_formatter_survives_unserialisable_fields() -> None:
    record = record_with(fields={"huge": 2**80, "object": object()})
    document = json.loads(JsonLogFormatter().format(record))
    assert document["huge"] == str(2**80)


def test_formatter_includes_the_exception() -> None:
    try:
        raise ValueError("broken")
    except ValueError:
        record = record_with()
        record.exc_info = sys.exc_info()
    document = json.loads(JsonLogFormatter().format(record))
    assert "ValueError: broken" in document["exception"]


def ours() -> list[logging.Handler]:
    return [handler for handler in logging.getLogger().handlers if handler.name == HANDLER_NAME]


@pytest.mark.usefixtures("restore_logging")
def test_configure_logging_is_idempotent() -> None:
    configure_logging("debug")
    configure_logging("warning", json=False)
    configure_logging("info")
    (handler,) = ours()
    assert isinstance(handler.formatter, JsonLogFormatter)
    assert logging.getLogger().level == logging.INFO
    uvicorn_access = logging.getLogger("uvicorn.access")
    assert uvicorn_access.handlers == []
    assert not uvicorn_access.propagate
    assert not uvicorn_access.isEnabledFor(logging.INFO)
    assert logging.getLogger("uvicorn.error").handlers == []


@pytest.mark.usefixtures("restore_logging")
def test_configure_logging_writes_text_on_request() -> None:
    configure_logging("warning", json=False)
    (handler,) = ours()
    assert handler.formatter is not None
    assert not isinstance(handler.formatter, JsonLogFormatter)
    assert logging.getLogger().level == logging.WARNING


@pytest.mark.usefixtures("restore_logging")
def test_dciauth_never_logs_its_signatures() -> None:
    configure_logging("debug")
    assert not logging.getLogger("dciauth").isEnabledFor(logging.DEBUG)
    configure_logging("error")
    assert not logging.getLogger("dciauth").isEnabledFor(logging.WARNING)


@pytest.mark.usefixtures("restore_logging")
def test_uvicorn_settings_and_configure_logging_share_one_handler() -> None:
    logging.config.dictConfig(logging_config("info"))
    configure_logging("info")
    (handler,) = ours()
    assert isinstance(handler.formatter, JsonLogFormatter)


def test_an_unknown_level_is_refused() -> None:
    with pytest.raises(ValueError, match="verbose"):
        configure_logging("verbose")
