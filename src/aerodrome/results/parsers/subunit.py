"""Subunit streams, v1 (text) and v2 (binary packets), read by the `python-subunit` library.

A v2 stream starts with its packet signature byte; anything else is read as v1 and converted
to v2 events by subunit's own adapter, so both end in one `StreamToDict` collector.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import IO, Any

import subunit
from testtools import ExtendedToStreamDecorator, StreamToDict

from aerodrome.results.parsers import Action, CaseRecord, ParsedResults, ParseError, clip
from aerodrome.results.parsers.spooled import SpooledParser

V2_SIGNATURE = 0xB3
_ACTIONS: dict[str, Action] = {
    "success": "success",
    "xfail": "success",  # an expected failure is a pass of the suite
    "fail": "failure",
    "uxsuccess": "failure",  # an unexpected success breaks the suite's expectations
    "skip": "skipped",
}


class SubunitParser(SpooledParser):
    def parse(self, stream: IO[bytes]) -> ParsedResults:
        results = ParsedResults()
        collector = StreamToDict(lambda test: _collect(results, test))
        first = stream.read(1)
        stream.seek(0)
        if not first:
            raise ParseError("invalid subunit stream: it is empty")
        collector.startTestRun()
        try:
            if first[0] == V2_SIGNATURE:
                subunit.ByteStreamToStreamResult(stream, non_subunit_name="stdout").run(collector)
            else:
                subunit.ProtocolTestCase(stream, passthrough=subunit.DiscardStream()).run(
                    ExtendedToStreamDecorator(collector)
                )
        except Exception as exc:  # the library signals corrupt input with many types
            raise ParseError(f"invalid subunit stream: {exc}") from exc
        collector.stopTestRun()
        if not results.cases:
            raise ParseError("invalid subunit stream: it holds no test")
        return results


def _collect(results: ParsedResults, test: Mapping[str, Any]) -> None:
    status = test["status"]
    if status not in _ACTIONS and status != "exists":
        action: Action = "error"
    elif status == "exists":
        return  # a test listed but not run
    else:
        action = _ACTIONS[status]
    classname, _, name = str(test["id"]).rpartition(".")
    start, end = test["timestamps"]
    case = CaseRecord(
        name=clip(name) or "",
        classname=clip(classname) or "",
        time=_duration(start, end),
        action=action,
    )
    if action != "success":
        case.value = clip(_details(test["details"]))
    results.cases.append(case)
    results.time += case.time


def _details(details: dict[str, Any]) -> str | None:
    texts = []
    for name, content in details.items():
        try:
            texts.append(f"{name}: {content.as_text()}")
        except Exception:  # noqa: S112 (a binary attachment has no text to show)
            continue
    return "\n".join(texts) or None


def _duration(start: datetime | None, end: datetime | None) -> float:
    # v1 streams mix the reader's clock with their own `time:` lines: never negative.
    return max((end - start).total_seconds(), 0.0) if start and end else 0.0
