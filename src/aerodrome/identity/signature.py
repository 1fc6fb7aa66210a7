"""DCI's `DCI2-HMAC-SHA256` request signatures, as sent by `dciclient`.

The header is parsed strictly here, so every malformed variant gets a precise message, but the
expected signature is recomputed by `dciauth.v2.headers.generate_headers`, the very function
`dciclient` signs with: canonicalization and the key chain stay byte-compatible with the real
client. The clock check and the constant-time comparison are ours, because `dciauth` hard-codes
both the window and a naive clock.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, cast
from urllib.parse import parse_qsl

from dciauth.v2 import headers as dciauth_headers
from dciauth.v2.headers import TIMESTAMP_FORMAT, generate_headers

SCHEME = "DCI2-HMAC-SHA256"
REQUEST_TYPE = "dci2_request"
# dciclient always signs exactly these two headers; requiring them keeps the host and the date
# bound to the signature instead of trusting a client-chosen list.
SIGNED_HEADERS = "host;x-dci-date"
CLIENT_TYPES = ("remoteci", "feeder")

ClientType = Literal["remoteci", "feeder"]

_FIELDS = ("Credential", "SignedHeaders", "Signature")
_HEX_SIGNATURE = re.compile(r"[0-9a-f]{64}")
# strptime alone accepts one-digit months, days, etc.; the wire format is fixed-width.
_TIMESTAMP = re.compile(r"\d{8}T\d{6}Z")


class SignatureError(Exception):
    """The request claims a DCI signature that is malformed, expired or does not match."""


@dataclass(frozen=True)
class SignatureClaim:
    """Who a `DCI2-HMAC-SHA256` request claims to come from, and what it signed with."""

    client_type: ClientType
    client_id: uuid.UUID
    timestamp: str  # X-DCI-Date as sent (YYYYMMDDTHHMMSSZ), part of the string to sign
    signed_at: datetime  # the same instant, timezone-aware UTC
    region: str  # credential scope: part of the key chain ("BHS3" for dciclient)
    service: str  # credential scope: part of the key chain ("api" for dciclient)
    signature: str  # 64 lowercase hex digits


def parse_signature_claim(headers: Mapping[str, str]) -> SignatureClaim | None:
    """Parse the `Authorization` and `X-DCI-Date` headers of a signed request.

    Returns None when there is no `Authorization` header or it uses another scheme (Basic,
    Bearer, ...). Raises SignatureError when it is `DCI2-HMAC-SHA256` but malformed.
    `headers` may be any mapping; names are matched case-insensitively.
    """
    authorization = _header(headers, "authorization")
    if authorization is None:
        return None
    scheme, _, parameters = authorization.strip().partition(" ")
    if scheme.upper() != SCHEME:  # auth schemes are case-insensitive (RFC 9110)
        return None
    fields = _parse_fields(parameters)
    client_type, client_id, datestamp, region, service = _parse_credential(fields["Credential"])
    if fields["SignedHeaders"] != SIGNED_HEADERS:
        raise SignatureError(f"SignedHeaders must be {SIGNED_HEADERS!r}")
    signature = fields["Signature"]
    if not _HEX_SIGNATURE.fullmatch(signature):
        raise SignatureError("malformed Signature: expected 64 lowercase hex digits")
    timestamp, signed_at = _parse_date(headers)
    if timestamp[:8] != datestamp:
        raise SignatureError("the Credential date does not match the X-DCI-Date header")
    return SignatureClaim(client_type, client_id, timestamp, signed_at, region, service, signature)


def verify_signature(
    claim: SignatureClaim,
    *,
    method: str,
    path: str,
    query_string: str,
    headers: Mapping[str, str],
    body: bytes,
    secret: str,
    now: datetime | None = None,
    max_skew: timedelta = timedelta(minutes=15),
) -> None:
    """Raise SignatureError unless `secret` signed this very request within `max_skew` of now.

    `path` is the raw (still percent-encoded) request path and `query_string` the raw query,
    e.g. ASGI's `scope["raw_path"]` and `scope["query_string"]` decoded as latin-1. The host
    checked is the request's `Host` header exactly. A naive `now` is taken as UTC.
    """
    _check_clock(claim, _as_utc(now or datetime.now(UTC)), max_skew)
    host = _header(headers, "host")
    if host is None:
        raise SignatureError("missing Host header")
    for params in _candidate_params(query_string):
        request = _signed_request(claim, method, path, params, host, body)
        expected = _expected_signature(request, claim, secret)
        if hmac.compare_digest(expected.encode(), claim.signature.encode()):
            return
    raise SignatureError("signature does not match the request")


def _header(headers: Mapping[str, str], name: str) -> str | None:
    """`name` (lowercase) looked up case-insensitively, in a plain dict as in Starlette's."""
    value = headers.get(name)
    if value is not None:
        return value
    return next((v for k, v in headers.items() if k.lower() == name), None)


def _parse_fields(parameters: str) -> dict[str, str]:
    """`Credential=…, SignedHeaders=…, Signature=…` as a dict, each field exactly once."""
    fields: dict[str, str] = {}
    for item in filter(None, (part.strip() for part in parameters.split(","))):
        key, sep, value = item.partition("=")
        if not sep or key not in _FIELDS or key in fields or not value.strip():
            raise SignatureError(f"malformed {SCHEME} authorization header near {item!r}")
        fields[key] = value.strip()
    for key in _FIELDS:
        if key not in fields:
            raise SignatureError(f"malformed {SCHEME} authorization header: missing {key}")
    return fields


def _parse_credential(credential: str) -> tuple[ClientType, uuid.UUID, str, str, str]:
    """Split `<type>/<id>/<YYYYMMDD>/<region>/<service>/dci2_request`."""
    parts = credential.split("/")
    if len(parts) != 6 or not all(parts):
        raise SignatureError(
            "malformed Credential: expected <type>/<id>/<YYYYMMDD>/<region>/<service>/"
            + REQUEST_TYPE
        )
    client_type, client_id, datestamp, region, service, request_type = parts
    if request_type != REQUEST_TYPE:
        raise SignatureError(f"unsupported Credential request type {request_type!r}")
    return _client_type(client_type), _client_id(client_id), datestamp, region, service


def _client_type(value: str) -> ClientType:
    if value not in CLIENT_TYPES:
        raise SignatureError(f"unknown client type {value!r}: expected remoteci or feeder")
    return cast(ClientType, value)


def _client_id(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise SignatureError(f"client id {value!r} is not a UUID") from None


def _parse_date(headers: Mapping[str, str]) -> tuple[str, datetime]:
    timestamp = _header(headers, "x-dci-date")
    if timestamp is None:
        raise SignatureError("missing X-DCI-Date header")
    timestamp = timestamp.strip()
    try:
        if not _TIMESTAMP.fullmatch(timestamp):
            raise ValueError(timestamp)
        signed_at = datetime.strptime(timestamp, TIMESTAMP_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        raise SignatureError(
            f"malformed X-DCI-Date {timestamp!r}: expected YYYYMMDDTHHMMSSZ"
        ) from None
    return timestamp, signed_at


def _as_utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def _check_clock(claim: SignatureClaim, now: datetime, max_skew: timedelta) -> None:
    # Both directions: a date far in the future would make a captured request replayable
    # for longer than the window.
    if claim.signed_at < now - max_skew:
        raise SignatureError(
            f"signature expired: X-DCI-Date {claim.timestamp} is more than {max_skew} "
            "before the server's clock"
        )
    if claim.signed_at > now + max_skew:
        raise SignatureError(
            f"clock skew: X-DCI-Date {claim.timestamp} is more than {max_skew} "
            "after the server's clock"
        )


def _candidate_params(query_string: str) -> Iterator[dict[str, str]]:
    """The query parameters, as each known signer may have seen them.

    dciclient signs `dict(parse_qsl(url.query))`: blank values dropped, the last of repeated
    keys kept. dciauth then re-quotes and sorts them, so decoding here is all it takes to reach
    the same canonical query whatever percent-encoding the wire used. A signer that kept blank
    values (e.g. calling `generate_headers` with `{"x": ""}` directly) is accepted too; both
    candidates are derived from this very query, so neither lets anything unsigned through
    beyond what dciclient itself leaves out.
    """
    client_view = dict(parse_qsl(query_string))
    yield client_view
    with_blanks = dict(parse_qsl(query_string, keep_blank_values=True))
    if with_blanks != client_view:
        yield with_blanks


def _signed_request(
    claim: SignatureClaim,
    method: str,
    path: str,
    params: dict[str, str],
    host: str,
    body: bytes,
) -> dict[str, Any]:
    """The request dict `dciauth` signs, pinned to the claim's date and credential scope."""
    return {
        "method": method.upper(),
        "endpoint": path,  # dciauth unquotes it, as it did on the client side
        "params": params,
        "data": body,
        "host": host,
        "timestamp": claim.timestamp,
        "datestamp": claim.timestamp[:8],
        "region": claim.region,
        "service": claim.service,
        "request_type": REQUEST_TYPE,
        "algorithm": SCHEME,
    }


def _expected_signature(request: dict[str, Any], claim: SignatureClaim, secret: str) -> str:
    if not secret:  # dciauth signs nothing without a secret; nothing can match then
        return ""
    credentials = {"access_key": f"{claim.client_type}/{claim.client_id}", "secret_key": secret}
    authorization = str(generate_headers(request, credentials)["Authorization"])
    return authorization.rpartition("Signature=")[2]


def verify_upload_signature(
    claim: SignatureClaim,
    *,
    method: str,
    path: str,
    query_string: str,
    headers: Mapping[str, str],
    body_sha256: str,
    secret: str,
    max_skew: timedelta,
) -> None:
    """Raise SignatureError unless `secret` signed this request and a body of this sha256.

    For uploads, which are streamed and hashed rather than held in memory: the canonical
    request is built around the digest, everything else comes from dciauth as in
    `verify_signature` (tests/files/test_signed_upload.py checks that both agree).
    """
    _check_clock(claim, datetime.now(UTC), max_skew)
    host = headers.get("host")
    if host is None:
        raise SignatureError("missing Host header")
    for params in _candidate_params(query_string):
        request = _signed_request(claim, method, path, params, host, b"")
        expected = _signature_of_digest(request, body_sha256, secret)
        if secret and hmac.compare_digest(expected.encode(), claim.signature.encode()):
            return
    raise SignatureError("signature does not match the request")


def _signature_of_digest(request: dict[str, Any], body_sha256: str, secret: str) -> str:
    canonical_request = "\n".join(
        [
            request["method"],
            dciauth_headers._get_endpoint(request),
            dciauth_headers._get_canonical_querystring(request),
            dciauth_headers._get_canonical_headers(request),  # ends with its own newline
            dciauth_headers._get_signed_headers(request),
            body_sha256,
        ]
    )
    string_to_sign = "\n".join(
        [
            request["algorithm"],
            request["timestamp"],
            dciauth_headers._get_credential_scope(request),
            hashlib.sha256(canonical_request.encode()).hexdigest(),
        ]
    )
    key = dciauth_headers._get_signing_key(request, secret)
    return hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()
