"""The canonical job status vocabulary, and how the paddles words map onto it.

The native API is DCI's, so its eight statuses are canonical; paddles adds `waiting`, `dead`
and `unknown`. Every job row holds one of `JOB_STATUSES`.
"""

from __future__ import annotations

from typing import Final

DCI_STATUSES: Final = (
    "new",
    "pre-run",
    "running",
    "post-run",
    "success",
    "failure",
    "killed",
    "error",
)
JOB_STATUSES: Final = (*DCI_STATUSES, "waiting", "dead", "unknown")
FINAL_STATUSES: Final = frozenset({"success", "failure", "killed", "error", "dead"})
QUEUED: Final = "new"

# Canonical status → the paddles job status it is shown as, which names the run counter it
# counts towards.
TO_PADDLES: Final[dict[str, str]] = {
    "new": "queued",
    "waiting": "waiting",
    "pre-run": "running",
    "running": "running",
    "post-run": "running",
    "success": "pass",
    "failure": "fail",
    "error": "fail",
    "killed": "dead",
    "dead": "dead",
    "unknown": "unknown",
}
RUN_COUNTERS: Final = ("queued", "waiting", "running", "pass", "fail", "dead", "unknown")

# paddles job status → canonical status.
FROM_PADDLES: Final[dict[str, str]] = {
    "queued": "new",
    "waiting": "waiting",
    "running": "running",
    "pass": "success",
    "fail": "failure",
    "dead": "dead",
    "unknown": "unknown",
}
