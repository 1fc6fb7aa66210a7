"""HTTP machinery shared by every route: list parameters, errors, identity, limits."""

# Where the native API lives. Routers carry their mount point themselves, so that a route
# knows its full path template (metrics and logs label requests by it).
API_PREFIX = "/api/v1"
