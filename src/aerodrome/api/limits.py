"""Limits every request must meet before a handler runs, answered in the API's JSON error
shape: a bounded body, and no NUL character in the URL (no database can compare one)."""

from __future__ import annotations

import re

from fastapi import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from aerodrome.api.errors import error_response


class BodyTooLarge(HTTPException):
    """Raised from `receive` when a streamed body passes the limit; FastAPI lets it through
    to the error handlers, which answer 413."""

    def __init__(self, limit: int) -> None:
        super().__init__(status_code=413, detail=f"request body larger than {limit} bytes")


# Raw file uploads stream to storage with their own, larger limit (`max_file_size`).
UPLOAD_PATHS = re.compile(r"^/api/v1/(files|components/[^/]+/files)/?$")


class RequestLimitsMiddleware:
    """413 when the declared Content-Length, or the bytes actually received, pass `max_bytes`
    (`upload_max_bytes` for a POST to an upload path); 400 when the path or the query string
    holds a NUL character."""

    def __init__(self, app: ASGIApp, max_bytes: int, upload_max_bytes: int | None = None) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.upload_max_bytes = upload_max_bytes or max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if "\x00" in scope["path"] or b"%00" in scope["query_string"]:
            response = error_response(400, "the URL may not contain NUL (%00) characters")
            await response(scope, receive, send)
            return
        limit = self._limit(scope)
        declared = dict(scope["headers"]).get(b"content-length", b"0")
        if not declared.isdigit() or int(declared) > limit:
            message = f"request body larger than {limit} bytes"
            response = error_response(413, message, {"max_bytes": limit})
            await response(scope, receive, send)
            return
        await self.app(scope, self._counting(receive, limit), send)

    def _limit(self, scope: Scope) -> int:
        if scope["method"] == "POST" and UPLOAD_PATHS.match(scope["path"]):
            return self.upload_max_bytes
        return self.max_bytes

    def _counting(self, receive: Receive, limit: int) -> Receive:
        received = 0

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > limit:
                raise BodyTooLarge(limit)
            return message

        return counting_receive
