"""Non-functional stats: projects, tests and their time series of data points (NFSS)."""
