"""JSON encoding: orjson for speed, the standard library for what orjson refuses.

orjson only encodes integers that fit in 64 bits; clients may send bigger ones inside free-form
`data`, and those must be stored and returned, not answered with a 500.
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
