"""JSON read back from the database is what was written, whichever decoder reads it."""

from __future__ import annotations

import math

from aerodrome import jsoncodec


def test_integers_beyond_64_bits_are_not_turned_into_floats() -> None:
    text = jsoncodec.dumps_text({"big": 2**70, "small": -(2**65), "fits": 2**63 - 1})
    assert jsoncodec.loads(text) == {"big": 2**70, "small": -(2**65), "fits": 2**63 - 1}
    assert isinstance(jsoncodec.loads(text)["big"], int)


def test_nan_written_by_the_fallback_encoder_is_read_back() -> None:
    text = jsoncodec.dumps_text({"big": 2**70, "ratio": math.nan})
    assert math.isnan(jsoncodec.loads(text)["ratio"])
    assert math.isinf(jsoncodec.loads('{"x": Infinity}')["x"])


def test_ordinary_documents_round_trip() -> None:
    document = {"name": "ocp", "tags": ["a", "é"], "nested": {"n": 1.5, "none": None}}
    assert jsoncodec.loads(jsoncodec.dumps_text(document)) == document
    assert jsoncodec.loads(jsoncodec.dumps(document)) == document
