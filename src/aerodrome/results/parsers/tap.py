"""TAP (Test Anything Protocol) streams, read by the `tap.py` library.

`ok` is a success, `not ok` a failure, a `# SKIP` directive a skip and a `# TODO` an expected
failure (a success of the suite, as TAP consumers count it). A bail-out is an error case.
"""

from __future__ import annotations

import io
from typing import IO

from tap.parser import Parser

from aerodrome.results.parsers import Action, CaseRecord, ParsedResults, ParseError, clip
from aerodrome.results.parsers.spooled import SpooledParser


class TapParser(SpooledParser):
    def parse(self, stream: IO[bytes]) -> ParsedResults:
        text = io.TextIOWrapper(stream, encoding="utf-8", errors="replace")
        results = ParsedResults()
        for line in Parser().parse(text):  # closes `text`, and with it the spool
            if line.category == "test":
                results.cases.append(_case(line))
            elif line.category == "bail":
                results.cases.append(
                    CaseRecord(name="Bail out!", action="error", message=clip(line.reason))
                )
        if not results.cases:
            raise ParseError("invalid TAP stream: it holds no test line")
        return results


def _case(line: object) -> CaseRecord:
    ok: bool = getattr(line, "ok")  # noqa: B009 (tap.py's line classes are untyped)
    number = getattr(line, "number")  # noqa: B009
    description: str = getattr(line, "description") or ""  # noqa: B009
    action: Action
    if getattr(line, "skip"):  # noqa: B009
        action = "skipped"
    elif ok or getattr(line, "todo"):  # noqa: B009
        action = "success"
    else:
        action = "failure"
    name = description.lstrip("- ").strip() or f"test {number}"
    directive = getattr(line, "directive")  # noqa: B009
    message = directive.reason if (action != "success" and directive) else None
    value = _yaml_text(line) if action == "failure" else None
    return CaseRecord(name=clip(name) or "", action=action, message=clip(message), value=value)


def _yaml_text(line: object) -> str | None:
    """A TAP 13 failure's YAML diagnostics block, shown as `key: value` lines."""
    block = getattr(line, "yaml_block", None)
    if not isinstance(block, dict) or not block:
        return None
    return clip("\n".join(f"{key}: {value}" for key, value in block.items()))
