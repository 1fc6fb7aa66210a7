"""GET answers kept in memory and given again until a table they were read from changes.

Dashboards and clients poll the same lists (the latest runs, a team's jobs) far more often
than those lists change; answering them from the database every time costs one to five
milliseconds of CPU each, which caps a 2-core server at a few hundred such requests a second.

An answer is kept only when all of these hold, so that giving it again is the same as
computing it again:

- its route says its answer depends on nothing but the URL, the caller and the database
  (`@keepable`): no clock, no side effect, no header but `Host` and `Authorization`
  (`Accept-Encoding` changes only how it is sent: kept answers are compressed once for the
  clients that take gzip, api/compression.py);
- it is a 200 no larger than a sixteenth of the memory allowed;
- every statement it ran was a SELECT of tables whose changes this process hears of
  (db/reads.py, db/changes.py), none of which changed while it ran;
- the caller was anonymous or gave Basic credentials: those are the same bytes on every
  request, so the key holds a digest of them. A signed request (its signature changes every
  time) and a bearer token (it may expire with no table changing) are always answered afresh.

A kept answer also depends on the identity tables: a password, a membership or an archived user
that changes makes every kept answer stale, so a credential that stopped working is never
answered from memory. A change committed by this process is known before its own answer
leaves; one committed elsewhere once its notification arrives on PostgreSQL, at once on SQLite
(db/changes.py). While the process cannot hear of changes, nothing is kept.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from aerodrome.api import compression
from aerodrome.api.compression import Headers
from aerodrome.db.changes import TableChanges
from aerodrome.db.reads import recording
from aerodrome.identity.changes import IDENTITY_TABLES

KEEPABLE = "aerodrome_keepable"
_SAFE = frozenset({"GET", "HEAD"})
# What an entry costs beyond its body: the key, headers and bookkeeping, roughly.
_ENTRY_OVERHEAD = 512
# How long a request waits for another computing the same answer before computing it itself.
FOLLOWER_WAIT_SECONDS = 1.0

Endpoint = TypeVar("Endpoint", bound=Callable[..., Any])


def keepable(endpoint: Endpoint) -> Endpoint:
    """Mark a GET handler whose answer depends only on the URL, the caller and the database."""
    setattr(endpoint, KEEPABLE, True)
    return endpoint


@dataclass(slots=True, eq=False)
class KeptAnswer:
    route: Any  # the route that answered, for the access log and the metrics
    tables: tuple[str, ...]
    generation: int
    headers: Headers
    body: bytes
    compressible: bool  # sent compressed to a client taking gzip (api/compression.py)
    # Headers and body as sent to a client taking gzip, once one has asked (api/compression.py).
    gzipped: tuple[Headers, bytes] | None = None

    @property
    def size(self) -> int:
        return len(self.body) + len(self.gzipped[1] if self.gzipped else b"") + _ENTRY_OVERHEAD


Key = tuple[Any, ...]


class ResponseCache:
    """The kept answers of one process, least recently used first out."""

    def __init__(self, changes: TableChanges, max_bytes: int) -> None:
        self.changes = changes
        self.max_bytes = max_bytes
        self.max_entry_bytes = max_bytes // 16
        self._entries: OrderedDict[Key, KeptAnswer] = OrderedDict()
        self._bytes = 0
        self.hits = 0  # requests answered from memory
        self.misses = 0  # requests that could have been, and were answered afresh

    @property
    def active(self) -> bool:
        return self.max_bytes > 0 and self.changes.listening

    def get(self, key: Key) -> KeptAnswer | None:
        kept = self._entries.get(key)
        if kept is None or kept.generation != self.changes.generation(kept.tables):
            return None
        self._entries.move_to_end(key)
        return kept

    def kept_before(self, key: Key) -> bool:
        """Whether an answer to `key` was kept, even if it is stale now."""
        return key in self._entries

    def put(self, key: Key, kept: KeptAnswer) -> None:
        replaced = self._entries.pop(key, None)
        if replaced is not None:
            self._bytes -= replaced.size
        self._entries[key] = kept
        self._bytes += kept.size
        self._evict()

    def _evict(self) -> None:
        while self._bytes > self.max_bytes:
            _key, evicted = self._entries.popitem(last=False)
            self._bytes -= evicted.size

    def gzipped(self, kept: KeptAnswer) -> tuple[Headers, bytes]:
        """A kept answer (just given by `get`) compressed, once: compressing it on every hit
        would cost more than the hit."""
        if kept.gzipped is None:
            kept.gzipped = compression.gzipped(kept.headers, kept.body)
            self._bytes += len(kept.gzipped[1])
            self._evict()
        return kept.gzipped

    def statistics(self) -> dict[str, Any]:
        return {
            "active": self.active,
            "entries": len(self._entries),
            "bytes": self._bytes,
            "hits": self.hits,
            "misses": self.misses,
        }


class ResponseCacheMiddleware:
    """Pure ASGI middleware answering GET and HEAD from `cache` when it can, keeping what it can."""

    def __init__(self, app: ASGIApp, cache: ResponseCache) -> None:
        self.app = app
        self.cache = cache
        self._computing: dict[Key, asyncio.Event] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        cache = self.cache
        # Whether the process hears of changes is asked by `get` and `snapshot` themselves: on
        # SQLite each asking reads the file's data version.
        if scope["type"] != "http" or scope["method"] not in _SAFE or cache.max_bytes == 0:
            await self.app(scope, receive, send)
            return
        key = _key(scope)
        if key is None:
            await self.app(scope, receive, send)
            return
        kept = cache.get(key) or await self._computed_by_another(key)
        if kept is not None:
            cache.hits += 1
            scope["route"] = kept.route
            headers, body = kept.headers, kept.body
            if kept.compressible and scope["method"] == "GET" and compression.takes_gzip(scope):
                headers, body = cache.gzipped(kept)
            # A copy: the middleware outside may change the headers it is sent in place.
            start = {"type": "http.response.start", "status": 200, "headers": list(headers)}
            await send(start)
            await send({"type": "http.response.body", "body": body})
            return
        cache.misses += 1
        first = key not in self._computing  # the one others may wait for
        if first:
            self._computing[key] = asyncio.Event()
        try:
            await self._answer_and_keep(scope, receive, send, key)
        finally:
            if first:
                self._computing.pop(key).set()

    async def _computed_by_another(self, key: Key) -> KeptAnswer | None:
        """An answer many clients poll has just become stale: wait (a second at most) for the
        one request computing it again rather than have all of them run its queries at once.
        When that answer could not be kept (a change came in meanwhile), the first waiter to
        wake computes it again and the others wait for that one in turn."""
        deadline = asyncio.get_running_loop().time() + FOLLOWER_WAIT_SECONDS
        while (computing := self._computing.get(key)) is not None and self.cache.kept_before(key):
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout_at(deadline):
                    await computing.wait()
            kept = self.cache.get(key)
            if kept is not None or asyncio.get_running_loop().time() >= deadline:
                return kept
        return None

    async def _answer_and_keep(self, scope: Scope, receive: Receive, send: Send, key: Key) -> None:
        cache = self.cache
        before = cache.changes.snapshot()
        start: Message | None = None
        chunks: list[bytes] = []
        size = 0

        async def keeping_send(message: Message) -> None:
            nonlocal start, size
            if message["type"] == "http.response.start":
                # A copy: the compression outside changes the headers it is sent in place.
                start = {**message, "headers": list(message.get("headers", ()))}
            elif message["type"] == "http.response.body" and size <= cache.max_entry_bytes:
                chunks.append(message.get("body", b""))
                size += len(chunks[-1])
            await send(message)

        with recording() as reads:
            await self.app(scope, receive, keeping_send)
        if (
            before is None
            or start is None
            or start["status"] != 200
            or size > cache.max_entry_bytes
            or not reads.trustworthy
            or not getattr(getattr(scope.get("route"), "endpoint", None), KEEPABLE, False)
            or not reads.tables <= cache.changes.announcing
        ):
            return
        tables = tuple(sorted(reads.tables | IDENTITY_TABLES))
        generation = before.generation(tables)
        if generation != cache.changes.generation(tables):
            return  # something it read changed meanwhile
        headers = start["headers"]
        body = b"".join(chunks)
        compressible = compression.compressible(headers)
        cache.put(key, KeptAnswer(scope["route"], tables, generation, headers, body, compressible))


def _key(scope: Scope) -> Key | None:
    """What the answer may depend on besides the database; None when it is not to be kept."""
    host, credential = b"", None
    for name, value in scope["headers"]:
        if name == b"authorization":
            if value[:6].lower() != b"basic ":
                return None
            credential = hashlib.blake2b(value, digest_size=16).digest()
        elif name == b"host":
            host = value
    return (
        scope["method"],
        scope.get("scheme"),
        host,
        scope.get("root_path", ""),
        scope["path"],
        scope["query_string"],
        credential,
    )
