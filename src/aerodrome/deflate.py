"""Deflate pieces that join into one zlib stream (`Content-Encoding: deflate`) without being
compressed again.

A sealed day is compressed once, when it is sealed, into a piece of raw deflate data that
ends on a byte boundary without a final block (a sync flush). Pieces compressed apart from
each other can then follow one another in a stream: a response is the zlib header, the pieces
of its sealed days with the bytes around them as stored (uncompressed) blocks, an empty final
block, and the Adler-32 of the whole, computed from each piece's checksum and size.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable
from dataclasses import dataclass

ADLER_BASE = 65521
# CMF 0x78: deflate with a 32 KiB window; FLG 0x9C: default level, and CMF·256 + FLG is a
# multiple of 31 as RFC 1950 requires.
ZLIB_HEADER = b"\x78\x9c"
FINAL_EMPTY_BLOCK = zlib.compressobj(0, zlib.DEFLATED, -zlib.MAX_WBITS).flush(zlib.Z_FINISH)


@dataclass(frozen=True)
class Piece:
    """Raw deflate data ending on a byte boundary, with the Adler-32 and the size of what
    it inflates to."""

    data: bytes
    checksum: int
    size: int


def compress(raw: bytes, level: int = 6) -> Piece:
    """`raw` as a piece; level 0 only frames it in stored blocks (no compression cost)."""
    compressor = zlib.compressobj(level, zlib.DEFLATED, -zlib.MAX_WBITS)
    data = compressor.compress(raw) + compressor.flush(zlib.Z_SYNC_FLUSH)
    return Piece(data, zlib.adler32(raw), len(raw))


def combine_adler32(first: int, second: int, second_size: int) -> int:
    """The Adler-32 of A + B from those of A and B and the size of B.

    Adler-32 is (b << 16) | a, with a = 1 + the sum of the bytes and b = the sum of the
    successive values of a. Reading B after A adds B's byte sum to a, and to b adds B's
    own b (which started from a = 1) plus (a of A - 1) for each byte of B.
    """
    a1, b1 = first & 0xFFFF, first >> 16
    a2, b2 = second & 0xFFFF, second >> 16
    a = (a1 + a2 - 1) % ADLER_BASE
    b = (b1 + b2 + second_size * (a1 - 1)) % ADLER_BASE
    return (b << 16) | a


def zlib_stream(parts: Iterable[bytes | Piece]) -> bytes:
    """A zlib stream of `parts` in order: pieces as they are, bytes in stored blocks."""
    output = [ZLIB_HEADER]
    checksum = zlib.adler32(b"")
    pending: list[bytes] = []

    def add(piece: Piece) -> None:
        nonlocal checksum
        output.append(piece.data)
        checksum = combine_adler32(checksum, piece.checksum, piece.size)

    for part in parts:
        if isinstance(part, Piece):
            if pending:
                add(compress(b"".join(pending), level=0))
                pending.clear()
            add(part)
        elif part:
            pending.append(part)
    if pending:
        add(compress(b"".join(pending), level=0))
    output += (FINAL_EMPTY_BLOCK, checksum.to_bytes(4, "big"))
    return b"".join(output)


def inflate(parts: Iterable[bytes | Piece]) -> bytes:
    """The uncompressed bytes of `parts`, for a client that does not take deflate."""
    output = []
    for part in parts:
        if isinstance(part, Piece):
            output.append(zlib.decompressobj(-zlib.MAX_WBITS).decompress(part.data))
        else:
            output.append(part)
    return b"".join(output)
