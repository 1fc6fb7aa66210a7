"""Façades that speak the wire formats of the systems Aerodrome replaces."""
