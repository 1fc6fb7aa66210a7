"""The base of parsers whose libraries read a whole stream: chunks are spooled to a temporary
file (in memory while small), and the library reads it back on `close`."""

from __future__ import annotations

import tempfile
from typing import IO

from aerodrome.results.parsers import ParsedResults

SPOOL_IN_MEMORY = 1024 * 1024


class SpooledParser:
    def __init__(self) -> None:
        self._spool: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY)  # noqa: SIM115

    def feed(self, chunk: bytes) -> None:
        self._spool.write(chunk)

    def close(self) -> ParsedResults:
        try:
            self._spool.seek(0)
            return self.parse(self._spool)
        finally:
            self._spool.close()

    def parse(self, stream: IO[bytes]) -> ParsedResults:
        raise NotImplementedError
