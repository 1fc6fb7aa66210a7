"""The parsers on real-world-shaped samples, fed in small chunks as an upload would."""

from __future__ import annotations

import datetime
import io
import time

import pytest
import subunit

from aerodrome.results.parsers import ParsedResults, ParseError, parser_for
from tests.files.world import junit


def _parse(mime: str, content: bytes, chunk: int = 7) -> ParsedResults:
    parser = parser_for(mime)
    assert parser is not None
    for start in range(0, len(content), chunk):
        parser.feed(content[start : start + chunk])
    return parser.close()


def test_junit_counts_and_details() -> None:
    content = junit({"a": "success", "b": "failure", "c": "error", "d": "skipped"})
    parsed = _parse("application/junit", content)
    assert [c.action for c in parsed.cases] == ["success", "failure", "error", "skipped"]
    failed = parsed.cases[1]
    assert (failed.classname, failed.suite, failed.message, failed.type, failed.value) == (
        "tempest.Tests",
        "tempest",
        "assert",
        "AssertionError",
        "Traceback",
    )
    assert parsed.time == pytest.approx(2.0)


def test_junit_with_a_bare_testsuite_root_and_nested_suites() -> None:
    content = (
        b'<testsuite name="outer"><testsuite name="inner"><testcase name="x" time="1,5">'
        b"<system-out>noise</system-out></testcase></testsuite>"
        b'<testcase name="y" time="oops"/></testsuite>'
    )
    parsed = _parse("application/junit", content)
    assert [(c.name, c.suite, c.time) for c in parsed.cases] == [
        ("x", "inner", 15.0),
        ("y", "outer", 0.0),
    ]


def test_junit_refuses_a_billion_laughs_quickly() -> None:
    entities = "".join(
        f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10}">' for i in range(1, 10)
    )
    bomb = (
        f'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol0 "lol">{entities}]>'
        "<testsuites><testsuite><testcase name='&lol9;'/></testsuite></testsuites>"
    ).encode()
    started = time.process_time()
    with pytest.raises(ParseError, match="DTDs and entities are not accepted"):
        _parse("application/junit", bomb, chunk=4096)
    # An expanded bomb would take seconds of CPU and gigabytes; a refusal takes nothing.
    assert time.process_time() - started < 0.5


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"<testsuites>",
        b"<html><body/></html>",
        b'<?xml version="1.0"?><!DOCTYPE x SYSTEM "file:///etc/passwd"><testsuites/>',
    ],
)
def test_junit_refuses_what_is_not_junit(content: bytes) -> None:
    with pytest.raises(ParseError):
        _parse("application/junit", content)


def test_junit_of_ten_thousand_cases_in_well_under_a_second() -> None:
    content = junit({f"test_{i}": "failure" if i % 50 == 0 else "success" for i in range(10_000)})
    _parse("application/junit", junit({"warm": "success"}))  # imports out of the timing
    started = time.process_time()
    parsed = _parse("application/junit", content, chunk=64 * 1024)
    # ~0.06 s of CPU; CPU time, unlike wall time, does not grow with other processes' load
    # (the end-to-end figure is benchmarks/junit_upload.py's).
    assert time.process_time() - started < 1.0
    assert len(parsed.cases) == 10_000
    assert parsed.count("failure") == 200


def test_subunit_v2() -> None:
    stream = io.BytesIO()
    out = subunit.StreamResultToBytes(stream)
    start = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
    out.status(test_id="nova.tests.Test.test_boot", test_status="inprogress", timestamp=start)
    out.status(
        test_id="nova.tests.Test.test_boot",
        test_status="success",
        timestamp=start + datetime.timedelta(seconds=3),
    )
    out.status(
        test_id="nova.tests.Test.test_resize",
        test_status="fail",
        file_name="traceback",
        file_bytes=b"AssertionError: 1 != 2",
        mime_type="text/plain;charset=utf8",
        eof=True,
    )
    out.status(test_id="nova.tests.Test.test_gpu", test_status="skip")
    parsed = _parse("application/subunit", stream.getvalue())
    assert [(c.classname, c.name, c.action) for c in parsed.cases] == [
        ("nova.tests.Test", "test_boot", "success"),
        ("nova.tests.Test", "test_resize", "failure"),
        ("nova.tests.Test", "test_gpu", "skipped"),
    ]
    assert parsed.cases[0].time == 3.0
    assert "1 != 2" in (parsed.cases[1].value or "")


def test_subunit_v1() -> None:
    content = (
        b"time: 2026-01-01 00:00:00.000000Z\ntest: pkg.T.test_x\n"
        b"time: 2026-01-01 00:00:02.000000Z\nsuccess: pkg.T.test_x\n"
        b"test: pkg.T.test_y\nfailure: pkg.T.test_y [\nTraceback boom\n]\n"
        b"test: pkg.T.test_z\nerror: pkg.T.test_z\n"
    )
    parsed = _parse("application/subunit", content)
    assert [(c.name, c.action) for c in parsed.cases] == [
        ("test_x", "success"),
        ("test_y", "failure"),
        ("test_z", "failure"),  # subunit v2 has no "error" status: v1 errors become fails
    ]
    assert all(case.time >= 0 for case in parsed.cases)
    with pytest.raises(ParseError):
        _parse("application/subunit", b"no tests here\n")


def test_tap() -> None:
    content = (
        b"TAP version 13\n1..5\nok 1 - boots\nnot ok 2 - resizes\n  ---\n  message: too small\n"
        b"  ...\nok 3 - gpu # SKIP no GPU\nnot ok 4 - flaky # TODO fix it\nok 5\n"
    )
    parsed = _parse("application/tap", content)
    assert [(c.name, c.action) for c in parsed.cases] == [
        ("boots", "success"),
        ("resizes", "failure"),
        ("gpu", "skipped"),
        ("flaky", "success"),
        ("test 5", "success"),
    ]
    assert parsed.cases[1].value == "message: too small"
    assert parsed.cases[2].message == "no GPU"
    with pytest.raises(ParseError):
        _parse("application/tap", b"hello\n")


def test_other_mimes_have_no_parser() -> None:
    assert parser_for("text/plain") is None
    assert parser_for("application/JUnit; charset=utf-8") is not None
