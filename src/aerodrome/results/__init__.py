"""Test results parsed from uploaded files: per-file summaries and one row per test case."""
