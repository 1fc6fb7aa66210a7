"""Repeated slashes in a request path count as one, as nginx's `merge_slashes` has them.

Clients build URLs by pasting a path onto a configured base URL: teuthology appends
`/runs/NAME/jobs/ID/` to a `results_server` that its own docs write with a trailing slash, and
asks for `//runs/…`. paddles and DCI run behind web servers that merge the slashes. The raw
path stays as sent, since request signatures cover it.
"""

from __future__ import annotations

import re

from starlette.types import ASGIApp, Receive, Scope, Send

_REPEATED = re.compile(r"/{2,}")


class MergeSlashesMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and "//" in scope["path"]:
            scope = {**scope, "path": _REPEATED.sub("/", scope["path"])}
        await self.app(scope, receive, send)
