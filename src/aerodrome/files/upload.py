"""Receiving an upload: the request body streams to the store block by block, hashed, counted
against the size limit and fed to a results parser on the way, never held whole in memory."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass

import anyio

from aerodrome.files.errors import PayloadTooLarge
from aerodrome.files.storage import BLOCK_SIZE, Storage
from aerodrome.results.parsers import ParsedResults, ResultParser


@dataclass(frozen=True)
class Received:
    size: int
    sha256: str
    results: ParsedResults | None


class _Digest:
    """The running sha256 of the body, and the parser that reads it as it passes."""

    def __init__(self, parser: ResultParser | None) -> None:
        self.sha256 = hashlib.sha256()
        self.parser = parser

    def update(self, block: bytes) -> None:
        self.sha256.update(block)
        if self.parser is not None:
            self.parser.feed(block)


async def receive(
    chunks: AsyncIterable[bytes],
    storage: Storage,
    key: str,
    *,
    limit: int,
    parser: ResultParser | None,
) -> Received:
    """Store `chunks` under `key`; raise (leaving nothing stored) when the body passes `limit`
    bytes or `parser` finds it invalid."""
    digest = _Digest(parser)
    size = await storage.save(key, _checked_blocks(chunks, digest, limit))
    try:
        results = await anyio.to_thread.run_sync(parser.close) if parser else None
    except BaseException:
        with anyio.CancelScope(shield=True):
            await storage.delete(key)
        raise
    return Received(size=size, sha256=digest.sha256.hexdigest(), results=results)


async def _checked_blocks(
    chunks: AsyncIterable[bytes], digest: _Digest, limit: int
) -> AsyncIterator[bytes]:
    received = 0
    async for block in _blocks(chunks):
        received += len(block)
        if received > limit:
            raise PayloadTooLarge(
                f"file larger than {limit} bytes", payload={"max_file_size": limit}
            )
        # Hashing and parsing a block costs CPU: off the event loop, so other requests go on.
        await anyio.to_thread.run_sync(digest.update, block)
        yield block


async def _blocks(chunks: AsyncIterable[bytes]) -> AsyncIterator[bytes]:
    """Regroup the transport's small chunks into blocks of about BLOCK_SIZE."""
    pending: list[bytes] = []
    pending_size = 0
    async for chunk in chunks:
        if not chunk:
            continue
        pending.append(chunk)
        pending_size += len(chunk)
        if pending_size >= BLOCK_SIZE:
            yield b"".join(pending)
            pending, pending_size = [], 0
    if pending:
        yield b"".join(pending)
