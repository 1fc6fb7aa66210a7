from __future__ import annotations

import os
from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True)
def _restore_process_state(restore_logging: None) -> Iterator[None]:
    """Commands export their settings for worker processes and configure logging for the
    whole process; keep both out of the other tests, which run in the same process."""
    saved = dict(os.environ)
    yield
    os.environ.clear()
    os.environ.update(saved)
