"""Unit tests of the DCI2-HMAC-SHA256 claim parser and verifier, against dciauth's signer."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from dciauth.v2.headers import generate_headers

from aerodrome.identity.signature import SignatureError, parse_signature_claim, verify_signature

CLIENT = uuid.uuid4()
SECRET = "s3cr3t-" * 8
NOW = datetime(2026, 11, 24, 12, 0, 0, tzinfo=UTC)


def _sign(params: dict[str, str], body: bytes = b"", when: datetime = NOW) -> dict[str, str]:
    request: dict[str, Any] = {
        "method": "POST",
        "endpoint": "/api/v1/jobs",
        "params": params,
        "data": body,
        "host": "ci.example.org",
        "timestamp": when.strftime("%Y%m%dT%H%M%SZ"),
        "datestamp": when.strftime("%Y%m%d"),
    }
    credentials = {"access_key": f"remoteci/{CLIENT}", "secret_key": SECRET}
    headers: dict[str, str] = generate_headers(request, credentials)
    return {**headers, "Host": "ci.example.org"}


def _verify(headers: dict[str, str], query: str, body: bytes = b"", **changes: Any) -> None:
    claim = parse_signature_claim(headers)
    assert claim is not None
    arguments: dict[str, Any] = {
        "method": "POST",
        "path": "/api/v1/jobs",
        "query_string": query,
        "headers": headers,
        "body": body,
        "secret": SECRET,
        "now": NOW,
    }
    verify_signature(claim, **{**arguments, **changes})


def test_query_strings_as_a_server_sees_them() -> None:
    params = {
        "where": "name:foo*,type:bar",
        "sort": "-created_at",
        "embed": "topic,team",
        "q": "é %",
    }
    query = "where=name%3Afoo%2A%2Ctype%3Abar&sort=-created_at&embed=topic%2Cteam&q=%C3%A9+%25"
    body = json.dumps({"topic_id": str(uuid.uuid4())}).encode()
    _verify(_sign(params, body), query, body)
    claim = parse_signature_claim(_sign({}))
    assert claim is not None
    assert (claim.client_type, claim.client_id) == ("remoteci", CLIENT)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"secret": "other"}, "signature does not match"),
        ({"body": b'{"x": 1}'}, "signature does not match"),
        ({"query_string": "limit=11"}, "signature does not match"),
        ({"path": "/api/v1/jobs/1"}, "signature does not match"),
        ({"method": "PUT"}, "signature does not match"),
        ({"now": NOW + timedelta(minutes=16)}, "away from the server's clock"),
        ({"now": NOW - timedelta(minutes=16)}, "away from the server's clock"),
    ],
)
def test_any_change_is_refused(changes: dict[str, Any], message: str) -> None:
    headers = _sign({"limit": "10"})
    with pytest.raises(SignatureError, match=message):
        _verify(headers, "limit=10", **changes)


def test_other_host_is_refused() -> None:
    headers = {**_sign({}), "Host": "evil.example.org"}
    with pytest.raises(SignatureError, match="does not match"):
        _verify(headers, "")


def test_skew_inside_the_window_passes() -> None:
    _verify(_sign({}), "", now=NOW + timedelta(minutes=14))


@pytest.mark.parametrize(
    ("authorization", "message"),
    [
        ("DCI2-HMAC-SHA256 garbage", "malformed"),
        (
            f"DCI2-HMAC-SHA256 Credential=user/{CLIENT}/20261124/BHS3/api/dci2_request, "
            "SignedHeaders=host;x-dci-date, Signature=ab",
            "unknown client type 'user'",
        ),
        (
            "DCI2-HMAC-SHA256 Credential=remoteci/nope/20261124/BHS3/api/dci2_request, "
            "SignedHeaders=host;x-dci-date, Signature=ab",
            "is not a UUID",
        ),
    ],
)
def test_malformed_claims(authorization: str, message: str) -> None:
    headers = {"Authorization": authorization, "X-DCI-Date": "20261124T120000Z", "Host": "h"}
    with pytest.raises(SignatureError, match=message):
        parse_signature_claim(headers)


def test_missing_date_and_other_schemes() -> None:
    signed = _sign({})
    without_date = {k: v for k, v in signed.items() if k != "X-DCI-Date"}
    with pytest.raises(SignatureError, match="missing X-DCI-Date"):
        parse_signature_claim(without_date)
    assert parse_signature_claim({"Authorization": "Basic YTpi"}) is None
    assert parse_signature_claim({"Authorization": "Bearer x"}) is None
    assert parse_signature_claim({}) is None
