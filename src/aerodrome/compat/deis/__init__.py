"""The Deis Workflow Manager API (`/deis/v2/...`, `/deis/v3/...`)."""
