"""JSON encoding and decoding: orjson for speed, the standard library for what orjson refuses.

orjson only encodes integers that fit in 64 bits, and decodes bigger ones as floats; clients
may send such integers inside free-form `data`, and those must be stored and returned intact.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any

import orjson


def _default(value: Any) -> str:
    # asyncpg returns its own UUID class, which orjson does not recognise as a UUID.
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def dumps(value: Any) -> bytes:
    try:
        return orjson.dumps(value, default=_default, option=orjson.OPT_NON_STR_KEYS)
    except orjson.JSONEncodeError:
        return json.dumps(value, default=_default, ensure_ascii=False).encode()


def dumps_text(value: Any) -> str:
    return dumps(value).decode()


# 19 digits in a row may be an integer beyond 64 bits (or just a long string or fraction,
# which the slower decoder handles just as well). Found by mapping every digit to "0" and
# looking for a run: a seventh of the cost of a regular expression, on every JSON value read.
_DIGITS_TO_ZERO = bytes.maketrans(b"123456789", b"000000000")
_NINETEEN_DIGITS = b"0" * 19


def loads(text: str | bytes) -> Any:
    """Decode JSON read from the database. The standard library decodes what orjson would
    change (integers beyond 64 bits) or refuse (NaN, written by the fallback of `dumps`)."""
    raw = text.encode() if isinstance(text, str) else text
    if _NINETEEN_DIGITS in raw.translate(_DIGITS_TO_ZERO):
        return json.loads(raw)
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return json.loads(raw)
