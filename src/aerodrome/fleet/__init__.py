"""The Deis fleet: clusters and the append-only log of their check-ins."""
