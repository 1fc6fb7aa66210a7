"""JSON responses rendered with orjson (UUIDs and aware datetimes serialise natively)."""

from __future__ import annotations

from typing import Any

from starlette import responses
from starlette.requests import Request

from aerodrome import deflate, jsoncodec
from aerodrome.api import compression


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


def pieced_json_response(
    request: Request, parts: list[bytes | deflate.Piece]
) -> responses.Response:
    """A JSON body made of `parts` (`aerodrome.deflate`). When some are compressed already
    and the client takes deflate, it is sent as one deflate stream, compressing nothing
    again; otherwise it is inflated (and gzipped for a client that takes gzip)."""
    compressed = any(isinstance(part, deflate.Piece) for part in parts)
    headers = {}
    if compressed and compression.accepts("deflate", request.headers.get("accept-encoding", "")):
        headers["Content-Encoding"] = "deflate"
        body = deflate.zlib_stream(parts)
    else:
        body = deflate.inflate(parts)
    # The gzip middleware says so itself of the answers it may compress (api/compression.py).
    if "Content-Encoding" in headers or len(body) < compression.MINIMUM_BYTES:
        headers["Vary"] = "Accept-Encoding"
    return responses.Response(body, media_type="application/json", headers=headers)
