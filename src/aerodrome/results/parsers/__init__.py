"""Test result parsers: JUnit XML, subunit v1/v2 and TAP, each fed the upload chunk by chunk.

Every parser turns a stream into the same `ParsedResults`: one `CaseRecord` per test case, in
the order of the file, plus the totals. Parsers are fed while the upload streams, so a file is
read once; a parser that needs the whole stream (subunit, TAP) spools it to a temporary file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Protocol

Action = Literal["success", "failure", "error", "skipped"]
ACTIONS: tuple[Action, ...] = ("success", "failure", "error", "skipped")
JUNIT = "application/junit"
SUBUNIT = "application/subunit"
TAP = "application/tap"
# What a case row keeps of a message or a captured output: enough to diagnose, bounded so
# that one chatty test cannot bloat the table.
MAX_TEXT = 64 * 1024


class ParseError(Exception):
    """The content is not a valid (or a safe) document of the declared format."""


@dataclass
class CaseRecord:
    name: str
    classname: str = ""
    suite: str = ""
    time: float = 0.0
    action: Action = "success"
    message: str | None = None
    type: str | None = None
    value: str | None = None


@dataclass
class ParsedResults:
    cases: list[CaseRecord] = field(default_factory=list)
    time: float = 0.0

    def count(self, action: Action) -> int:
        return sum(1 for case in self.cases if case.action == action)


class ResultParser(Protocol):
    def feed(self, chunk: bytes) -> None:
        """Take the next bytes of the stream; raise ParseError as soon as it is invalid."""

    def close(self) -> ParsedResults:
        """The stream has ended: the results, or ParseError."""


def clip(text: str | None) -> str | None:
    """At most MAX_TEXT characters, and never a NUL (no database stores one in text)."""
    if text is None:
        return None
    return text[:MAX_TEXT].replace("\x00", "\ufffd")


def parser_for(mime: str) -> ResultParser | None:
    """A fresh parser for a file of this mime type, or None when it holds no test results."""
    from aerodrome.results.parsers import junit, subunit, tap

    factories: dict[str, type[ResultParser]] = {
        JUNIT: junit.JUnitParser,
        SUBUNIT: subunit.SubunitParser,
        TAP: tap.TapParser,
    }
    factory = factories.get(mime.split(";")[0].strip().lower())
    return factory() if factory else None
