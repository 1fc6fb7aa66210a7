"""JSON responses rendered with orjson (UUIDs and aware datetimes serialise natively)."""

from __future__ import annotations

from typing import Any

from starlette import responses

from aerodrome import jsoncodec


class JSONResponse(responses.JSONResponse):
    """Starlette's JSON response (so that OpenAPI documents it as JSON), rendered by orjson."""

    def render(self, content: Any) -> bytes:
        return jsoncodec.dumps(content)


def item_response(singular: str, row: dict[str, Any], *, status_code: int = 200) -> JSONResponse:
    """`{"<resource>": {...}}` with the row's etag as the ETag header."""
    return JSONResponse(
        {singular: row}, status_code=status_code, headers={"ETag": str(row.get("etag", ""))}
    )


def list_response(plural: str, rows: list[dict[str, Any]], count: int) -> JSONResponse:
    return JSONResponse({plural: rows, "_meta": {"count": count}})
