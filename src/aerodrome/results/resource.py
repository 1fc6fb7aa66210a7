"""Test results as the API exposes them (`GET /jobs/<id>/results`, `embed=results`)."""

from __future__ import annotations

from aerodrome.db.resources import Resource
from aerodrome.results.models import TestResult

RESULTS = Resource("result", "results", TestResult.__table__, team_key="team_id")
