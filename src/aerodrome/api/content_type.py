"""Request bodies are JSON, whatever Content-Type the client forgot to set.

`curl -d '{...}'` sends `application/x-www-form-urlencoded`, and several real clients (teuthology
among them) send JSON with no Content-Type at all. The API takes no forms, so such bodies are
read as the JSON they are; anything that is not JSON still gets the JSON parser's 400.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

_JSON = (b"content-type", b"application/json")
_ASSUMED_JSON = (b"", b"application/x-www-form-urlencoded")


class AssumeJsonMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] in ("POST", "PUT", "PATCH"):
            headers = [(k, v) for k, v in scope["headers"] if k != b"content-type"]
            declared = dict(scope["headers"]).get(b"content-type", b"")
            if declared.split(b";")[0].strip().lower() in _ASSUMED_JSON:
                scope = {**scope, "headers": [*headers, _JSON]}
        await self.app(scope, receive, send)
