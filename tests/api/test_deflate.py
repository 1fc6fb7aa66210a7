"""Deflate pieces compressed apart join into one valid zlib stream, and Accept-Encoding is
read as RFC 9110 says."""

from __future__ import annotations

import random
import zlib

import pytest

from aerodrome import deflate
from aerodrome.api.compression import accepts

# Random bytes mapped onto a small alphabet, so that they compress as JSON does.
JSONISH = bytes(b'{}[]",:0123456789abcdef'[i % 23] for i in range(256))


def _random_bytes(rng: random.Random, size: int) -> bytes:
    return rng.randbytes(size).translate(JSONISH)


@pytest.mark.parametrize("seed", range(40))
def test_pieces_and_bytes_join_into_one_zlib_stream(seed: int) -> None:
    rng = random.Random(seed)
    parts: list[bytes | deflate.Piece] = []
    for _ in range(rng.randint(0, 8)):
        raw = _random_bytes(rng, rng.choice([0, 1, 7, 4_000, 65_535, 65_536, 150_000]))
        parts.append(deflate.compress(raw, rng.choice([0, 1, 6, 9])) if rng.random() < 0.6 else raw)
    stream = deflate.zlib_stream(parts)
    expected = b"".join(p if isinstance(p, bytes) else deflate.inflate([p]) for p in parts)
    # zlib.decompress checks the header and the Adler-32 trailer.
    assert zlib.decompress(stream) == expected
    assert deflate.inflate(parts) == expected


def test_combined_adler32_equals_the_checksum_of_the_whole() -> None:
    rng = random.Random(7)
    for _ in range(200):
        first = _random_bytes(rng, rng.randint(0, 300_000))
        second = _random_bytes(rng, rng.randint(0, 300_000))
        combined = deflate.combine_adler32(zlib.adler32(first), zlib.adler32(second), len(second))
        assert combined == zlib.adler32(first + second)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("gzip, deflate", True),
        ("gzip, deflate, br, zstd", True),
        ("DEFLATE;q=0.5", True),
        ("deflate;q=0", False),
        ("deflate; q=0.0, gzip", False),
        ("*", True),
        ("*;q=0", False),
        ("gzip;q=1, *;q=0.1", True),
        ("deflate;q=0, *", False),
        ("identity", False),
        ("", False),
        ("deflate;q=abc", False),
    ],
)
def test_accept_encoding(header: str, expected: bool) -> None:
    assert accepts("deflate", header) is expected
