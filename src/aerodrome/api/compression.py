"""JSON and HTML answers compressed with gzip for the clients that take it.

teuthology and dciclient (both through requests) and browsers send `Accept-Encoding: gzip`;
a 300-job run or a page of jobs with their embeds is tens to hundreds of kilobytes of JSON
that gzip shrinks about tenfold. Fresh answers are compressed by Starlette's GZipMiddleware.
An answer kept in memory (api/response_cache.py) is compressed once, the first time a client
takes it so, and that copy is given again: compressing it on every request would cost more
than computing the answer. File contents (`application/octet-stream`) are sent as stored:
they are often compressed already, and their Content-Length and sha256 are of the stored bytes.
"""

from __future__ import annotations

import gzip

from fastapi import FastAPI
from starlette.middleware import gzip as starlette_gzip
from starlette.types import Message, Receive, Scope, Send

# Below about one packet, compressing saves no round trip and costs CPU.
MINIMUM_BYTES = 1024
# zlib's default: most of level 9's gain at a third of its cost on JSON.
LEVEL = 6
EXCLUDED_CONTENT_TYPES = (
    *starlette_gzip.DEFAULT_EXCLUDED_CONTENT_TYPES,
    "application/octet-stream",
)

_EXCLUDED = frozenset(EXCLUDED_CONTENT_TYPES)

Headers = list[tuple[bytes, bytes]]
VARY = (b"vary", b"Accept-Encoding")


class GZipMiddleware(starlette_gzip.GZipMiddleware):
    """Starlette's, reading Accept-Encoding as RFC 9110 does, as answers kept in memory are
    (`gzip;q=0` refuses gzip, `*` takes it). To a client that does not take gzip, an answer
    that would have been compressed only says that it varies: Starlette's own way of saying so
    cost a quarter of the throughput of the runs list, this one a tenth (decision 0011)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] == "HEAD":  # no body: nothing to do
            await self.app(scope, receive, send)
        elif takes_gzip(scope):
            responder = starlette_gzip.GZipResponder(
                self.app,
                self.minimum_size,
                compresslevel=self.compresslevel,
                thread_minimum_size=self.thread_minimum_size,
                exclude_content_types=self.exclude_content_types,
            )
            await responder(scope, receive, send)
        else:
            await self.app(scope, receive, _saying_it_varies(send))


def _saying_it_varies(send: Send) -> Send:
    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = message.get("headers", [])
            if compressible(headers):
                message = {**message, "headers": [*headers, VARY]}
        await send(message)

    return sending


def install(app: FastAPI) -> None:
    """Compress the answers that leave the middleware added before this call."""
    app.add_middleware(
        GZipMiddleware,
        minimum_size=MINIMUM_BYTES,
        compresslevel=LEVEL,
        exclude_content_types=EXCLUDED_CONTENT_TYPES,
    )


def takes_gzip(scope: Scope) -> bool:
    for name, value in scope["headers"]:
        if name == b"accept-encoding":
            return accepts("gzip", value.decode("latin-1"))
    return False


def accepts(coding: str, accept_encoding: str) -> bool:
    """Whether an Accept-Encoding header takes `coding` (by name or `*`, with q > 0)."""
    weights: dict[str, float] = {}
    for listed in accept_encoding.split(","):
        name, _, parameters = listed.partition(";")
        weight = 1.0
        key, _, value = parameters.strip().partition("=")
        if key.strip().lower() == "q":
            try:
                weight = float(value)
            except ValueError:
                weight = 0.0
        weights[name.strip().lower()] = weight
    return weights.get(coding, weights.get("*", 0.0)) > 0


def compressible(headers: Headers) -> bool:
    """Whether an answer with these headers is compressed for a client taking gzip (one
    without a Content-Length, streamed, counts as large)."""
    for name, value in headers:
        if name == b"content-encoding":
            return False
        if name == b"content-length" and int(value) < MINIMUM_BYTES:
            return False
        if name == b"content-type":
            media_type = value.decode("latin-1").partition(";")[0].strip().lower()
            if {media_type, media_type.partition("/")[0] + "/*"} & _EXCLUDED:
                return False
    return True


def gzipped(headers: Headers, body: bytes) -> tuple[Headers, bytes]:
    """The answer as GZipMiddleware sends it to a client taking gzip."""
    compressed = gzip.compress(body, compresslevel=LEVEL, mtime=0)
    kept = [(name, value) for name, value in headers if name != b"content-length"]
    kept += [
        (b"content-length", str(len(compressed)).encode()),
        (b"content-encoding", b"gzip"),
        VARY,
    ]
    return kept, compressed
