"""Aerodrome: one CI control server, results store and pipeline engine."""

__version__ = "0.1.0"
