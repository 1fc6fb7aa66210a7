"""DCI2-HMAC-SHA256 signatures of uploads, checked against the body's streamed sha256.

`identity.signature.verify_signature` needs the body in memory (dciauth hashes it); an upload
may be gigabytes, so here the canonical request is built around the sha256 computed while the
body streamed to the store. Everything else (canonical query, headers, credential scope, key
chain) still comes from dciauth itself, so the signature stays what dciclient computes;
`tests/files/test_signed_upload.py` checks both verifiers agree.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from dciauth.v2 import headers as dciauth_headers

from aerodrome.identity import signature
from aerodrome.identity.signature import SignatureClaim, SignatureError


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
    """Raise SignatureError unless `secret` signed this request and a body of this sha256."""
    signature._check_clock(claim, datetime.now(UTC), max_skew)
    host = headers.get("host")
    if host is None:
        raise SignatureError("missing Host header")
    for params in signature._candidate_params(query_string):
        request = signature._signed_request(claim, method, path, params, host, b"")
        expected = _signature(request, body_sha256, secret)
        if secret and hmac.compare_digest(expected.encode(), claim.signature.encode()):
            return
    raise SignatureError("signature does not match the request")


def _signature(request: dict[str, Any], body_sha256: str, secret: str) -> str:
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
