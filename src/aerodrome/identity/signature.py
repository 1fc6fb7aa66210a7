"""DCI's `DCI2-HMAC-SHA256` request signatures, verified with the `dciauth` package itself.

The signature is recomputed by `dciauth` (the library `dciclient` signs with), so Aerodrome is
byte-compatible with the real client; the clock-skew check and the constant-time comparison
are done here, because `dciauth` hard-codes both the window and a naive clock.
"""

from __future__ import annotations

import hmac
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, cast
from urllib.parse import parse_qsl

from dciauth.v2.headers import TIMESTAMP_FORMAT, generate_headers, parse_headers

SCHEME = "DCI2-HMAC-SHA256"
ClientType = Literal["remoteci", "feeder"]


class SignatureError(Exception):
    """The request claims a DCI signature that is malformed, expired or wrong."""


@dataclass(frozen=True)
class SignatureClaim:
    client_type: ClientType
    client_id: uuid.UUID
    signed: dict[str, Any]  # dciauth's parsed view of the signature headers


def parse_signature_claim(headers: Mapping[str, str]) -> SignatureClaim | None:
    """The claim of a signed request; None when the request does not use this scheme."""
    lowered = {k.lower(): v for k, v in headers.items()}
    authorization = lowered.get("authorization", "")
    if not authorization.startswith(SCHEME + " "):
        return None
    if "x-dci-date" not in lowered:
        raise SignatureError("missing X-DCI-Date header")
    try:
        signed = parse_headers(lowered)
    except (ValueError, KeyError):
        signed = None
    if not signed or not signed.get("signature"):
        raise SignatureError("malformed DCI2-HMAC-SHA256 authorization header")
    return SignatureClaim(
        client_type=_client_type(signed["client_type"]),
        client_id=_client_id(signed["client_id"]),
        signed=signed,
    )


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
    """Raise SignatureError unless the request was signed with `secret`, recently enough."""
    _check_clock(claim.signed["timestamp"], now or datetime.now(UTC), max_skew)
    request = {
        **claim.signed,
        "method": method.upper(),
        "endpoint": path,
        "params": dict(parse_qsl(query_string, keep_blank_values=True)),
        "data": body,
    }
    credential = {"access_key": f"{claim.client_type}/{claim.client_id}", "secret_key": secret}
    expected = _signature_of(generate_headers(request, credential))
    if not hmac.compare_digest(expected.encode(), str(claim.signed["signature"]).encode()):
        raise SignatureError("signature does not match the request")


def _check_clock(timestamp: str, now: datetime, max_skew: timedelta) -> None:
    try:
        signed_at = datetime.strptime(timestamp, TIMESTAMP_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        raise SignatureError(f"malformed X-DCI-Date {timestamp!r}") from None
    if abs(now - signed_at) > max_skew:
        raise SignatureError(
            f"signature date {timestamp} is more than {int(max_skew.total_seconds())} s "
            "away from the server's clock"
        )


def _signature_of(generated: Mapping[str, str]) -> str:
    return generated["Authorization"].rsplit("Signature=", 1)[1]


def _client_type(value: str) -> ClientType:
    if value not in ("remoteci", "feeder"):
        raise SignatureError(f"unknown client type {value!r}: expected remoteci or feeder")
    return cast(ClientType, value)


def _client_id(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise SignatureError(f"client id {value!r} is not a UUID") from None
