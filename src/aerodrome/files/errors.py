"""Errors of the files domain."""

from __future__ import annotations

from aerodrome.errors import AerodromeError


class PayloadTooLarge(AerodromeError):
    status_code = 413
    code = "payload_too_large"


class ContentMissing(AerodromeError):
    """A file's row exists but the store has no content for it: the server's fault."""

    status_code = 500
    code = "content_missing"
