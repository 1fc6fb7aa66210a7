"""JUnit XML, parsed as it streams by expat through defusedxml.

No tree is built: a small target object turns start/end events into case records, so memory
grows with the number of cases, not with captured output. DTDs are refused outright (which
stops entity-expansion bombs such as "billion laughs" before a single entity is expanded), and
so are entity declarations and external references.
"""

from __future__ import annotations

from collections.abc import Mapping

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import DefusedXMLParser

from aerodrome.results.parsers import MAX_TEXT, Action, CaseRecord, ParsedResults, ParseError, clip

_OUTCOMES: dict[str, Action] = {"failure": "failure", "error": "error", "skipped": "skipped"}
_ROOTS = ("testsuites", "testsuite")


class JUnitParser:
    def __init__(self) -> None:
        self._target = _JUnitTarget()
        self._parser = DefusedXMLParser(
            target=self._target, forbid_dtd=True, forbid_entities=True, forbid_external=True
        )

    def feed(self, chunk: bytes) -> None:
        try:
            self._parser.feed(chunk)
        except (SyntaxError, DefusedXmlException) as exc:
            raise ParseError(f"invalid JUnit XML: {_reason(exc)}") from exc

    def close(self) -> ParsedResults:
        try:
            self._parser.close()
        except (SyntaxError, DefusedXmlException) as exc:
            raise ParseError(f"invalid JUnit XML: {_reason(exc)}") from exc
        if not self._target.seen_root:
            raise ParseError("invalid JUnit XML: the document is empty")
        return self._target.results


def _reason(exc: Exception) -> str:
    if isinstance(exc, DefusedXmlException):
        return "DTDs and entities are not accepted"
    return str(exc)


class _JUnitTarget:
    """Receives the parser's events; keeps only the innermost suite name and the open case."""

    def __init__(self) -> None:
        self.results = ParsedResults()
        self.seen_root = False
        self._suites: list[str] = []
        self._case: CaseRecord | None = None
        self._text: list[str] | None = None
        self._text_size = 0

    def start(self, tag: str, attrib: Mapping[str, str]) -> None:
        if not self.seen_root:
            if tag not in _ROOTS:
                raise SyntaxError(f"root element is <{tag}>, not <testsuites> or <testsuite>")
            self.seen_root = True
        if tag == "testsuite":
            self._suites.append(attrib.get("name", ""))
        elif tag == "testcase":
            self._case = _new_case(attrib, self._suites[-1] if self._suites else "")
        elif self._case is not None and tag in _OUTCOMES:
            self._set_outcome(_OUTCOMES[tag], attrib)

    def _set_outcome(self, action: Action, attrib: Mapping[str, str]) -> None:
        assert self._case is not None
        if self._case.action in ("failure", "error"):
            return  # the first failure of a case is the one that counts
        self._case.action = action
        self._case.message = clip(attrib.get("message"))
        self._case.type = clip(attrib.get("type"))
        self._text, self._text_size = [], 0

    def data(self, text: str) -> None:
        if self._text is not None and self._text_size < MAX_TEXT:
            self._text.append(text)
            self._text_size += len(text)

    def end(self, tag: str) -> None:
        if tag == "testsuite" and self._suites:
            self._suites.pop()
        elif tag == "testcase" and self._case is not None:
            self.results.cases.append(self._case)
            self.results.time += self._case.time
            self._case = None
        elif tag in _OUTCOMES and self._case is not None and self._text is not None:
            self._case.value = clip("".join(self._text).strip()) or None
            self._text = None

    def close(self) -> None:
        return None


def _new_case(attrib: Mapping[str, str], suite: str) -> CaseRecord:
    return CaseRecord(
        name=clip(attrib.get("name", "")) or "",
        classname=clip(attrib.get("classname", "")) or "",
        suite=clip(suite) or "",
        time=_seconds(attrib.get("time")),
    )


def _seconds(raw: str | None) -> float:
    try:
        value = float((raw or "0").replace(",", ""))
    except ValueError:
        return 0.0
    return value if value >= 0 and value != float("inf") else 0.0
