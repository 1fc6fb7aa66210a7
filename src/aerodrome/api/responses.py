"""JSON responses rendered with orjson (UUIDs and aware datetimes serialise natively)."""

from __future__ import annotations

import uuid
from typing import Any

import orjson
from starlette import responses


class JSONResponse(responses.JSONResponse):
    """Starlette's JSON response (so that OpenAPI documents it as JSON), rendered by orjson."""

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content, default=_fallback, option=orjson.OPT_NON_STR_KEYS)


def _fallback(value: Any) -> str:
    # asyncpg returns its own UUID class, which orjson does not recognise as a UUID.
    if isinstance(value, uuid.UUID):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def item_response(singular: str, row: dict[str, Any], *, status_code: int = 200) -> JSONResponse:
    """`{"<resource>": {...}}` with the row's etag as the ETag header."""
    return JSONResponse(
        {singular: row}, status_code=status_code, headers={"ETag": str(row.get("etag", ""))}
    )


def list_response(plural: str, rows: list[dict[str, Any]], count: int) -> JSONResponse:
    return JSONResponse({plural: rows, "_meta": {"count": count}})
