"""One JSON line per request on logger `aerodrome.access`; never a header but the user agent."""

from __future__ import annotations

import logging
import re
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

logger = logging.getLogger("aerodrome.access")
_SANE_REQUEST_ID = re.compile(rb"[A-Za-z0-9._-]{1,64}")


class AccessLogMiddleware:
    """Logs method, path (no query string: it may carry secrets), route, status, duration,
    client, request id, user agent and response size; echoes `X-Request-ID`."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        request_id = _request_id(headers.get(b"x-request-id"))
        started = time.perf_counter()
        status, size = 500, 0

        async def logging_send(message: Message) -> None:
            nonlocal status, size
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [
                    *message.get("headers", []),
                    (b"x-request-id", request_id.encode()),
                ]
            elif message["type"] == "http.response.body":
                size += len(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, logging_send)
        finally:
            if logger.isEnabledFor(logging.INFO):
                fields = _fields(scope, headers, request_id, status, size, started)
                logger.info("request", extra={"fields": fields})


def _request_id(given: bytes | None) -> str:
    if given is not None and _SANE_REQUEST_ID.fullmatch(given):
        return given.decode()
    return uuid.uuid4().hex


def _fields(
    scope: Scope,
    headers: dict[bytes, bytes],
    request_id: str,
    status: int,
    size: int,
    started: float,
) -> dict[str, Any]:
    client = scope.get("client")
    return {
        "method": scope["method"],
        "path": scope["path"],
        "route": getattr(scope.get("route"), "path", None),
        "status": status,
        "duration_ms": round((time.perf_counter() - started) * 1000, 2),
        "client": client[0] if client else None,
        "request_id": request_id,
        "user_agent": headers.get(b"user-agent", b"").decode("latin-1"),
        "bytes": size,
    }


class JsonLogFormatter(logging.Formatter):
    """Renders a record as one JSON object per line, with its `fields` extra merged in."""

    def format(self, record: logging.LogRecord) -> str:
        document: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        document.update(getattr(record, "fields", {}))
        if record.exc_info:
            document["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(document, default=str).decode()


def logging_config(level: str) -> dict[str, Any]:
    """`logging.config.dictConfig` settings: JSON lines on stderr for every logger, with
    uvicorn's own access log replaced by ours. uvicorn applies it in every worker process."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": JsonLogFormatter}},
        "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "json"}},
        "root": {"handlers": ["stderr"], "level": level.upper()},
        "loggers": {
            "uvicorn": {"handlers": [], "propagate": True},
            "uvicorn.error": {"handlers": [], "propagate": True},
            "uvicorn.access": {"handlers": [], "propagate": False},
            # At DEBUG dciauth logs the headers it computes: valid signatures. Never show them.
            "dciauth": {"level": "INFO"},
        },
    }
