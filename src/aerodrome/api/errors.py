"""Every failure answers `{"status_code", "message", "payload"}`: never HTML, never a trace."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect

from aerodrome.api.responses import JSONResponse
from aerodrome.errors import AerodromeError

logger = logging.getLogger("aerodrome.errors")


def error_response(
    status_code: int, message: str, payload: dict[str, Any] | None = None
) -> JSONResponse:
    headers = {"WWW-Authenticate": 'Basic realm="aerodrome"'} if status_code == 401 else None
    body = {"status_code": status_code, "message": message, "payload": payload or {}}
    return JSONResponse(body, status_code=status_code, headers=headers)


async def _domain_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AerodromeError)
    return error_response(exc.status_code, exc.message, exc.payload)


async def _http_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    messages = {404: "not found", 405: "method not allowed"}
    message = exc.detail if isinstance(exc.detail, str) else messages.get(exc.status_code, "")
    if exc.status_code in messages and exc.detail in ("Not Found", "Method Not Allowed"):
        message = messages[exc.status_code]
    response = error_response(exc.status_code, message)
    if exc.headers:
        response.headers.update(exc.headers)
    return response


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {"field": ".".join(str(p) for p in err["loc"][1:]) or err["loc"][0], "error": err["msg"]}
        for err in exc.errors()
    ]
    summary = "; ".join(f"{e['field']}: {e['error']}" for e in errors)
    return error_response(400, f"invalid request: {summary}", {"errors": errors})


async def _unavailable(request: Request, exc: Exception) -> JSONResponse:
    # The database (or another backing service) did not answer, or stayed locked past the
    # busy timeout: the request may succeed if retried, so say so instead of a bare 500.
    logger.warning(
        "backing service unavailable on %s %s: %s", request.method, request.url.path, exc
    )
    response = error_response(503, "service unavailable: the database did not answer; retry")
    response.headers["Retry-After"] = "1"
    return response


# SQLSTATEs of a server refusing connections for now: too many clients, starting up or
# shutting down. asyncpg's errors reach us as a plain DBAPIError carrying the code.
_REFUSED_FOR_NOW = frozenset({"53300", "57P03"})


async def _database_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DBAPIError)
    if getattr(exc.orig, "sqlstate", None) in _REFUSED_FOR_NOW:
        return await _unavailable(request, exc)
    return await _unexpected_error(request, exc)


async def _client_gone(request: Request, _exc: Exception) -> JSONResponse:
    # Nobody reads this answer; it only keeps a hang-up out of the error log, and the
    # unit of work sees the exception and rolls back.
    logger.info("client hung up during %s %s", request.method, request.url.path)
    return error_response(400, "the client disconnected before its request was read")


async def _unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    logger.exception("unhandled error on %s %s", request.method, request.url.path)
    return error_response(500, "internal server error")


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(AerodromeError, _domain_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    for unavailable in (OSError, OperationalError, InterfaceError, PoolTimeout):
        app.add_exception_handler(unavailable, _unavailable)
    app.add_exception_handler(DBAPIError, _database_error)
    app.add_exception_handler(ClientDisconnect, _client_gone)
    app.add_exception_handler(Exception, _unexpected_error)
