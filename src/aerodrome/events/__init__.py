"""Events: the append-only change feeds of the domains (DCI's `jobs_events`)."""
