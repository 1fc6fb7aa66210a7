"""Structured logging: one JSON line per request on logger `aerodrome.access`, and the JSON
formatter with which every log record of the server is written.

The access log never holds the query string (its parameters may carry secrets) nor any
request header but the user agent: in particular never `Authorization` or cookies.
"""

from __future__ import annotations

import logging
import logging.config
import os
import re
import time
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from aerodrome.ops.metrics import route_template

logger = logging.getLogger("aerodrome.access")

REQUEST_ID_HEADER = b"x-request-id"
_SANE_REQUEST_ID = re.compile(rb"[A-Za-z0-9._-]{1,64}")
# Bounds the line whatever a client sends; real user agents are far shorter.
_USER_AGENT_LIMIT = 512
# The root handler installed by `configure_logging` and `logging_config` alike, so that
# either may run after the other without writing every line twice.
HANDLER_NAME = "aerodrome"
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"


class AccessLogMiddleware:
    """Pure ASGI middleware logging, once an HTTP request is answered, its method, path (no
    query string), route template, status, duration, client address, request id, user agent
    and response size. A request whose handler raises is logged as a 500.

    The request id comes from the `X-Request-ID` request header when that is sane, else is
    generated; it is echoed in the `X-Request-ID` response header and available to handlers
    as `request.state.request_id`."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given_id, user_agent = _wanted_headers(scope["headers"])
        request_id = _request_id(given_id)
        scope.setdefault("state", {})["request_id"] = request_id
        echoed = (REQUEST_ID_HEADER, request_id.encode())
        started = time.perf_counter()
        status, size = 500, 0

        async def logging_send(message: Message) -> None:
            nonlocal status, size
            if message["type"] == "http.response.start":
                status = message["status"]
                # A copy: the application may reuse its message.
                message = {**message, "headers": [*message.get("headers", ()), echoed]}
            elif message["type"] == "http.response.body":
                size += len(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, logging_send)
        except Exception:
            status = 500
            raise
        finally:
            if logger.isEnabledFor(logging.INFO):
                fields = {
                    "method": scope["method"],
                    "path": scope["path"],
                    "route": route_template(scope),
                    "status": status,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                    "client": _client(scope),
                    "request_id": request_id,
                    "user_agent": user_agent[:_USER_AGENT_LIMIT].decode("latin-1"),
                    "bytes": size,
                }
                # The message is for text logs; JSON logs have every field on its own.
                logger.info(
                    "%s %s %d", scope["method"], scope["path"], status, extra={"fields": fields}
                )


def _wanted_headers(headers: Iterable[tuple[bytes, bytes]]) -> tuple[bytes | None, bytes]:
    # Picks the two headers that may be logged; the others are never even copied.
    request_id, user_agent = None, b""
    for name, value in headers:
        if name == REQUEST_ID_HEADER:
            request_id = value
        elif name == b"user-agent":
            user_agent = value
    return request_id, user_agent


def _request_id(given: bytes | None) -> str:
    # A client's id is kept only when harmless in logs and headers alike.
    if given is not None and _SANE_REQUEST_ID.fullmatch(given):
        return given.decode("ascii")
    # 128 random bits, as a uuid4 has, at a fifth of uuid4's cost.
    return os.urandom(16).hex()


def _client(scope: Scope) -> str | None:
    client = scope.get("client")
    return str(client[0]) if client else None


class JsonLogFormatter(logging.Formatter):
    """Renders a record as one JSON object per line: `ts` (ISO-8601, UTC), `level`, `logger`,
    `message`, the fields given as `extra={"fields": {...}}`, then any exception."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as a line of JSON, without the line break."""
        document: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, Mapping):
            for key, value in fields.items():
                # The fields cannot overwrite the record's own keys: no forged level or time.
                document.setdefault(str(key), value)
        if record.exc_info:
            document["exception"] = record.exc_text or self.formatException(record.exc_info)
        if record.stack_info:
            document["stack"] = self.formatStack(record.stack_info)
        return _dumps(document)


def _dumps(document: dict[str, Any]) -> str:
    try:
        return orjson.dumps(document, default=str).decode()
    except orjson.JSONEncodeError:
        # Integers beyond 64 bits, circular structures...: a log line is never lost for that.
        return orjson.dumps({key: str(value) for key, value in document.items()}).decode()


def configure_logging(level: str, json: bool = True) -> None:
    """Make this process log as the server does (see `logging_config`); for the commands
    that run without uvicorn. Calling it again only changes the level and format."""
    logging.config.dictConfig(logging_config(level, json))


def _level_number(level: str) -> int:
    number = logging.getLevelNamesMapping().get(level.upper())
    if number is None:
        raise ValueError(f"unknown log level {level!r}")
    return number


def _dciauth_level(level: int) -> int:
    # At DEBUG dciauth logs the headers it computes: valid signatures. Never show them.
    return max(level, logging.INFO)


def logging_config(level: str, json: bool = True) -> dict[str, Any]:
    """The same as `configure_logging`, as `logging.config.dictConfig` settings: to give to
    uvicorn (`log_config=`), which applies them in every worker process."""
    number = _level_number(level)
    formatter: dict[str, Any] = {"()": JsonLogFormatter} if json else {"format": TEXT_FORMAT}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"aerodrome": formatter},
        "handlers": {HANDLER_NAME: {"class": "logging.StreamHandler", "formatter": "aerodrome"}},
        "root": {"handlers": [HANDLER_NAME], "level": number},
        "loggers": {
            "uvicorn": {"handlers": [], "propagate": True},
            "uvicorn.error": {"handlers": [], "propagate": True},
            "uvicorn.access": {"handlers": [], "propagate": False, "level": "WARNING"},
            "dciauth": {"level": _dciauth_level(number)},
        },
    }
