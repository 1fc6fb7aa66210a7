"""The Non Functional Stats Service API (`/nfss/api/v1/...`)."""
