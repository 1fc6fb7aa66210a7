"""Work: job definitions, jobs, their state history, runs (named groups of jobs) and queues."""
