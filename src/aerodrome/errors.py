"""Domain errors. Each carries the HTTP status the native API answers with and a stable code;
other surfaces (façades, CLI, web) map them their own way."""

from __future__ import annotations

from typing import Any


class AerodromeError(Exception):
    status_code = 400
    code = "bad_request"

    def __init__(self, message: str, *, payload: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.payload = payload or {}


class InvalidInput(AerodromeError):
    status_code = 400
    code = "invalid_input"


class Unauthorized(AerodromeError):
    status_code = 401
    code = "unauthorized"


class Forbidden(AerodromeError):
    status_code = 403
    code = "forbidden"


class NotFound(AerodromeError):
    status_code = 404
    code = "not_found"


class Conflict(AerodromeError):
    status_code = 409
    code = "conflict"


class PreconditionFailed(AerodromeError):
    status_code = 412
    code = "precondition_failed"
