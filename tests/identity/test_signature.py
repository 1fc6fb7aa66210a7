"""DCI2-HMAC-SHA256 claims, signed the way the real dciclient signs them.

Requests are URL-encoded by `requests` (as dciclient's session does) and signed by
`dciauth.v2.headers.generate_headers` with the request dict dciclient builds, so the server side
sees exactly what it would on the wire. The last tests drive dciclient itself.
"""

from __future__ import annotations

import io
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests
from dciauth.v2.headers import generate_headers
from dciclient.v1.api import context as dci_context
from dciclient.v1.api import file as dci_file
from dciclient.v1.api import job as dci_job
from requests.adapters import BaseAdapter
from starlette.datastructures import Headers

from aerodrome.identity.signature import (
    SignatureClaim,
    SignatureError,
    parse_signature_claim,
    verify_signature,
)

HOST = "aerodrome.test:8443"
CLIENT_ID = uuid.UUID("6f1c7a4e-2b1d-4c8e-9a57-0d3e8b2f4a10")
SECRET = "Kx7-secret-" * 6
LIST_PARAMS = {"where": "name:foo*,type:bar", "sort": "-created_at", "embed": "topic,team"}
MISMATCH = "signature does not match the request"


@dataclass(frozen=True)
class Wire:
    """A request as the server receives it: raw path and query, headers, body bytes."""

    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes = b""
    secret: str = SECRET

    def verify(self, **changes: Any) -> None:
        """verify_signature() on this request, with some arguments `changes`d."""
        claim = parse_signature_claim(self.headers)
        assert claim is not None
        arguments: dict[str, Any] = {
            "method": self.method,
            "path": self.path,
            "query_string": self.query,
            "headers": self.headers,
            "body": self.body,
            "secret": self.secret,
            **changes,
        }
        verify_signature(claim, **arguments)


def _sign(
    method: str,
    path: str,
    params: Mapping[str, Any] | None = None,
    body: bytes = b"",
    *,
    access_key: str = f"remoteci/{CLIENT_ID}",
) -> Wire:
    """Encode the URL with requests, sign it with dciauth like DciSignatureAuth does."""
    prepared = requests.Request(method, f"http://{HOST}{path}", params=params).prepare()
    assert prepared.url is not None
    url = urlsplit(prepared.url)
    request: dict[str, Any] = {
        "method": method,
        "endpoint": url.path,
        "params": dict(parse_qsl(url.query)),
        "host": url.netloc,
        "data": body,
    }
    signed = generate_headers(request, {"access_key": access_key, "secret_key": SECRET})
    return Wire(method, url.path, url.query, {"Host": url.netloc, **signed}, body)


def _claim(wire: Wire) -> SignatureClaim:
    claim = parse_signature_claim(wire.headers)
    assert claim is not None
    return claim


# --- requests signed like dciclient verify -------------------------------------------------


@pytest.mark.parametrize(
    "params",
    [
        pytest.param({}, id="no-query"),
        pytest.param({**LIST_PARAMS, "limit": 10}, id="dciclient-list"),
        pytest.param({"q": "two words", "pct": "100%", "star": "*", "colon": "a:b"}, id="symbols"),
        pytest.param({"name": "équipe 日本", "ключ": "значение"}, id="non-ascii"),
        pytest.param({"amp": "a&b=c", "plus": "1+1", "misc": "/~;'\"<>#?"}, id="delimiters"),
        pytest.param({"where": "", "limit": "10"}, id="empty-value"),
        pytest.param({"tags": ["ci", "nightly"], "limit": "5"}, id="repeated-key"),
    ],
)
def test_get_with_params_verifies(params: dict[str, Any]) -> None:
    _sign("GET", "/api/v1/jobs", params).verify()


def test_post_with_json_body_verifies() -> None:
    body = json.dumps({"topic_id": str(uuid.uuid4()), "comment": "nightly é"}).encode()
    _sign("POST", "/api/v1/jobs", body=body).verify()


def test_raw_binary_body_verifies() -> None:
    body = bytes(range(256)) + b"\xff\xfe not utf-8"
    _sign("POST", "/api/v1/files", {"job_id": str(uuid.uuid4())}, body).verify()


def test_percent_encoded_path_verifies() -> None:
    wire = _sign("GET", "/api/v1/files/a b/é/100%25")
    assert wire.path == "/api/v1/files/a%20b/%C3%A9/100%25"
    wire.verify()


def test_query_encoded_differently_on_the_wire_verifies() -> None:
    """Another encoder (%20 for spaces, bare `*:,`, lowercase hex, other order) still passes."""
    wire = _sign("GET", "/api/v1/jobs", {**LIST_PARAMS, "q": "a b é"})
    assert wire.query.endswith("&q=a+b+%C3%A9")
    query = "q=a%20b%20%c3%a9&embed=topic,team&sort=-created_at&where=name:foo*,type:bar"
    wire.verify(query_string=query)


def test_blank_values_kept_by_another_signer_verify() -> None:
    """dciclient drops blank values before signing; a signer that keeps them passes too."""
    request: dict[str, Any] = {"method": "GET", "endpoint": "/api/v1/jobs", "host": HOST}
    request.update({"params": {"where": "", "limit": "1"}, "data": b""})
    access = {"access_key": f"remoteci/{CLIENT_ID}", "secret_key": SECRET}
    headers = {"Host": HOST, **generate_headers(request, access)}
    Wire("GET", "/api/v1/jobs", "where=&limit=1", headers).verify()


def test_header_names_in_any_case() -> None:
    wire = _sign("GET", "/api/v1/jobs", {"limit": "1"})
    shouted = {name.upper(): value for name, value in wire.headers.items()}
    replace(wire, headers=shouted).verify()
    starlette = Headers(raw=[(k.lower().encode(), v.encode()) for k, v in wire.headers.items()])
    claim = parse_signature_claim(starlette)
    assert claim is not None
    verify_signature(
        claim,
        method="GET",
        path=wire.path,
        query_string=wire.query,
        headers=starlette,
        body=b"",
        secret=SECRET,
    )


def test_claim_names_the_client() -> None:
    remoteci = _claim(_sign("GET", "/api/v1/jobs"))
    assert (remoteci.client_type, remoteci.client_id) == ("remoteci", CLIENT_ID)
    feeder = _claim(_sign("GET", "/api/v1/jobs", access_key=f"feeder/{CLIENT_ID}"))
    assert (feeder.client_type, feeder.client_id) == ("feeder", CLIENT_ID)
    assert (feeder.region, feeder.service) == ("BHS3", "api")
    assert feeder.signed_at.tzinfo is UTC


# --- anything altered is refused ------------------------------------------------------------


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({"secret": "not-the-secret"}, id="wrong-secret"),
        pytest.param({"secret": ""}, id="empty-secret"),
        pytest.param({"body": b'{"comment": "tampered"}'}, id="tampered-body"),
        pytest.param({"query_string": "limit=11"}, id="tampered-query"),
        pytest.param({"query_string": "limit=10&admin=1"}, id="added-param"),
        pytest.param({"path": "/api/v1/jobs/other"}, id="tampered-path"),
        pytest.param({"method": "DELETE"}, id="other-method"),
    ],
)
def test_altered_request_is_refused(changes: dict[str, Any]) -> None:
    wire = _sign("POST", "/api/v1/jobs", {"limit": "10"}, b'{"comment": "ok"}')
    with pytest.raises(SignatureError, match=MISMATCH):
        wire.verify(**changes)


def test_other_host_is_refused() -> None:
    wire = _sign("GET", "/api/v1/jobs")
    with pytest.raises(SignatureError, match=MISMATCH):
        wire.verify(headers={**wire.headers, "Host": "evil.test:8443"})


def test_missing_host_is_refused() -> None:
    wire = _sign("GET", "/api/v1/jobs")
    headers = {k: v for k, v in wire.headers.items() if k != "Host"}
    with pytest.raises(SignatureError, match="missing Host header"):
        wire.verify(headers=headers)


# --- clock ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("offset", "message"),
    [
        (timedelta(minutes=16), "signature expired: .* before the server's clock"),
        (-timedelta(minutes=16), "clock skew: .* after the server's clock"),
    ],
)
def test_date_beyond_the_window_is_refused(offset: timedelta, message: str) -> None:
    wire = _sign("GET", "/api/v1/jobs")
    with pytest.raises(SignatureError, match=message):
        wire.verify(now=_claim(wire).signed_at + offset)


@pytest.mark.parametrize("minutes", [-15, -14, 14, 15])
def test_date_inside_the_window_passes(minutes: int) -> None:
    wire = _sign("GET", "/api/v1/jobs")
    wire.verify(now=_claim(wire).signed_at + timedelta(minutes=minutes))


def test_window_and_naive_now() -> None:
    wire = _sign("GET", "/api/v1/jobs")
    naive = _claim(wire).signed_at.replace(tzinfo=None) + timedelta(minutes=3)
    wire.verify(now=naive)
    with pytest.raises(SignatureError, match="signature expired"):
        wire.verify(now=naive, max_skew=timedelta(minutes=2))


# --- malformed claims -----------------------------------------------------------------------

SIG = "ab" * 32
SCOPE = "20261124/BHS3/api/dci2_request"


@pytest.mark.parametrize(
    ("authorization", "message"),
    [
        (f"DCI2-HMAC-SHA256 SignedHeaders=host;x-dci-date, Signature={SIG}", "missing Credential"),
        (f"DCI2-HMAC-SHA256 Credential=remoteci/{CLIENT_ID}/{SCOPE}, Signature={SIG}", "missing"),
        ("DCI2-HMAC-SHA256", "missing Credential"),
        ("DCI2-HMAC-SHA256 garbage", "near 'garbage'"),
        (
            f"DCI2-HMAC-SHA256 Credential=user/{CLIENT_ID}/{SCOPE}, "
            f"SignedHeaders=host;x-dci-date, Signature={SIG}",
            "unknown client type 'user'",
        ),
        (
            f"DCI2-HMAC-SHA256 Credential=remoteci/not-a-uuid/{SCOPE}, "
            f"SignedHeaders=host;x-dci-date, Signature={SIG}",
            "client id 'not-a-uuid' is not a UUID",
        ),
        (
            f"DCI2-HMAC-SHA256 Credential={CLIENT_ID}/{SCOPE}, "
            f"SignedHeaders=host;x-dci-date, Signature={SIG}",
            "malformed Credential",
        ),
        (
            f"DCI2-HMAC-SHA256 Credential=remoteci/{CLIENT_ID}/20261124/BHS3/api/aws4_request, "
            f"SignedHeaders=host;x-dci-date, Signature={SIG}",
            "unsupported Credential request type",
        ),
        (
            f"DCI2-HMAC-SHA256 Credential=remoteci/{CLIENT_ID}/{SCOPE}, "
            f"SignedHeaders=x-dci-date, Signature={SIG}",
            "SignedHeaders must be 'host;x-dci-date'",
        ),
        (
            f"DCI2-HMAC-SHA256 Credential=remoteci/{CLIENT_ID}/{SCOPE}, "
            "SignedHeaders=host;x-dci-date, Signature=xyz",
            "malformed Signature",
        ),
        (
            f"DCI2-HMAC-SHA256 Credential=remoteci/{CLIENT_ID}/{SCOPE}, "
            f"SignedHeaders=host;x-dci-date, Signature={SIG}, Signature={SIG}",
            "near 'Signature=",
        ),
        (
            f"DCI2-HMAC-SHA256 Credential=remoteci/{CLIENT_ID}/20261123/BHS3/api/dci2_request, "
            f"SignedHeaders=host;x-dci-date, Signature={SIG}",
            "Credential date does not match the X-DCI-Date",
        ),
    ],
)
def test_malformed_authorization(authorization: str, message: str) -> None:
    headers = {"Authorization": authorization, "X-DCI-Date": "20261124T120000Z", "Host": HOST}
    with pytest.raises(SignatureError, match=message):
        parse_signature_claim(headers)


@pytest.mark.parametrize(
    ("date", "message"),
    [
        (None, "missing X-DCI-Date header"),
        ("2026-11-24T12:00:00Z", "malformed X-DCI-Date"),
        ("20261124T250000Z", "malformed X-DCI-Date"),
    ],
)
def test_malformed_date(date: str | None, message: str) -> None:
    wire = _sign("GET", "/api/v1/jobs")
    headers = {k: v for k, v in wire.headers.items() if k != "X-DCI-Date"}
    if date is not None:
        headers["X-DCI-Date"] = date
    with pytest.raises(SignatureError, match=message):
        parse_signature_claim(headers)


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Host": HOST},
        {"Authorization": "Basic YWRtaW46YWRtaW4="},
        {"Authorization": "Bearer adt_token"},
        {"authorization": "AWS4-HMAC-SHA256 Credential=x"},
        {"Authorization": ""},
    ],
)
def test_other_schemes_are_not_claims(headers: dict[str, str]) -> None:
    assert parse_signature_claim(headers) is None


def test_scheme_name_is_case_insensitive() -> None:
    wire = _sign("GET", "/api/v1/jobs")
    authorization = wire.headers["Authorization"].replace("DCI2-HMAC-SHA256", "dci2-hmac-sha256")
    replace(wire, headers={**wire.headers, "Authorization": authorization}).verify()


# --- the real dciclient ---------------------------------------------------------------------


class _Capture(BaseAdapter):
    """A requests transport adapter that records prepared requests instead of sending them."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[requests.PreparedRequest] = []

    def send(
        self, request: requests.PreparedRequest, *args: Any, **kwargs: Any
    ) -> requests.Response:
        self.sent.append(request)
        response = requests.Response()
        response.status_code = 200
        response._content = b"{}"  # what dciclient reads back does not matter here
        response.request = request
        return response

    def close(self) -> None:
        """Nothing to release."""


def _as_received(prepared: requests.PreparedRequest) -> Wire:
    """What the server would see for a request dciclient prepared (http.client adds Host)."""
    assert prepared.url is not None
    assert prepared.method is not None
    url = urlsplit(prepared.url)
    body: Any = prepared.body
    if hasattr(body, "read"):  # dciclient's file uploads stream a file object
        body = body.read()
    elif isinstance(body, str):
        body = body.encode()
    headers = {k: v.decode() if isinstance(v, bytes) else v for k, v in prepared.headers.items()}
    headers["Host"] = url.netloc
    return Wire(prepared.method, url.path, url.query, headers, body or b"")


@pytest.mark.parametrize("client_id", [str(CLIENT_ID), f"feeder/{CLIENT_ID}"])
def test_real_dciclient_requests_verify(client_id: str) -> None:
    context = dci_context.build_signature_context(
        dci_cs_url=f"http://{HOST}/", dci_client_id=client_id, dci_api_secret=SECRET
    )
    capture = _Capture()
    context.session.mount("http://", capture)
    dci_job.list(context, **LIST_PARAMS, limit=10, offset=0)
    dci_job.create(context, topic_id=str(uuid.uuid4()), comment="nightly é", tags=["a b"])
    content = io.BytesIO(bytes(range(256)))
    dci_file.create(context, "dump.bin", content=content, mime="application/octet-stream")
    wires = [_as_received(prepared) for prepared in capture.sent]
    assert [wire.method for wire in wires] == ["GET", "POST", "POST"]
    assert "where=name%3Afoo%2A%2Ctype%3Abar" in wires[0].query
    assert wires[2].body == bytes(range(256))
    for wire in wires:
        claim = _claim(wire)
        assert claim.client_id == CLIENT_ID
        assert claim.client_type == ("feeder" if "/" in client_id else "remoteci")
        wire.verify()
        with pytest.raises(SignatureError, match=MISMATCH):
            wire.verify(body=wire.body + b" ")
