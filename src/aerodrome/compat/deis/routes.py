"""The Deis Workflow Manager API at `/deis/v2/...` and `/deis/v3/...`.

Translate in → call the catalog release and fleet services → translate out. Errors answer in
Deis's own shape, `{"code": N, "message": "..."}`, on these routes only.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from aerodrome.api.deps import Caller, DbSession, Reader
from aerodrome.api.responses import JSONResponse
from aerodrome.api.routing import Route
from aerodrome.catalog import releases
from aerodrome.compat.deis import schemas
from aerodrome.db.types import utcnow
from aerodrome.errors import AerodromeError, InvalidInput, NotFound
from aerodrome.fleet import service as fleet_service
from aerodrome.settings import Settings
from aerodrome.times import UtcTime

PREFIX = "/deis"
Handler = Callable[[Request], Coroutine[Any, Any, Response]]


def deis_error(status_code: int, message: str) -> JSONResponse:
    return JSONResponse({"code": status_code, "message": message}, status_code=status_code)


def _validation_message(errors: Any) -> str:
    parts = []
    for error in errors:
        where = ".".join(str(p) for p in error["loc"] if p != "body") or "body"
        parts.append(f"{where}: {error['msg']}")
    return "invalid request: " + "; ".join(parts)


class DeisRoute(Route):
    """A route whose every failure answers in the Deis error shape."""

    def get_route_handler(self) -> Handler:
        handler = super().get_route_handler()

        async def deis_handler(request: Request) -> Response:
            try:
                return await handler(request)
            except AerodromeError as exc:
                return deis_error(exc.status_code, exc.message)
            except (RequestValidationError, ValidationError) as exc:
                return deis_error(400, _validation_message(exc.errors()))
            except StarletteHTTPException as exc:
                return deis_error(exc.status_code, str(exc.detail).lower())

        return deis_handler


router = APIRouter(prefix=PREFIX, tags=["deis"], route_class=DeisRoute)

TrainPath = Annotated[str, Path(max_length=64, pattern=r"^[\w.\-]+$")]
NamePath = Annotated[str, Path(max_length=255, pattern=r"^[A-Za-z0-9][\w.\-]*$")]
ReleasePath = Annotated[str, Path(max_length=255)]
Time = Annotated[UtcTime | None, Query()]


def component_version(row: dict[str, Any]) -> dict[str, Any]:
    """A release as a Deis ComponentVersion."""
    return {
        "component": {"name": row["name"]},
        "version": {
            "train": row["train"],
            "version": row["version"],
            "released": row["released_at"],
            "data": row["data"],
        },
    }


def cluster(row: dict[str, Any]) -> dict[str, Any]:
    """A cluster as Deis shows it, each component with its `updateAvailable`, if any."""
    latest = {(u["name"], u["train"]): u["latest"] for u in row["updates_available"]}
    components = []
    for component in row["components"]:
        name, train, _ = fleet_service.installed(component)
        shown = {k: v for k, v in component.items() if k != "updateAvailable"}
        if (name, train) in latest:
            shown["updateAvailable"] = latest[(name, train)]
        components.append(shown)
    return {
        "id": row["id"],
        "firstSeen": row["first_seen"],
        "lastSeen": row["last_seen"],
        "components": components,
    }


# ---- versions -------------------------------------------------------------------------------


async def get_release(
    session: DbSession, train: TrainPath, component: NamePath, release: ReleasePath
) -> JSONResponse:
    """One release of a component on a train; `latest` is the newest released."""
    row = await releases.get_release(session, name=component, train=train, version=release)
    return JSONResponse(component_version(row))


async def publish_release(
    session: DbSession,
    identity: Caller,
    train: TrainPath,
    component: NamePath,
    release: ReleasePath,
    body: schemas.ComponentVersion,
) -> JSONResponse:
    """Publish (create or replace) a release; needs a feeder or admin credential."""
    if release == "latest":
        raise InvalidInput("'latest' is not a version that can be published")
    _check_matches(body, component=component, train=train, version=release)
    row = await releases.publish_release(
        session,
        identity,
        name=component,
        train=train,
        version=release,
        released_at=body.version.released,
        data=body.version.data or {},
    )
    return JSONResponse(component_version(row))


def _check_matches(body: schemas.ComponentVersion, **path: str) -> None:
    given = {
        "component": body.component.name,
        "train": body.version.train,
        "version": body.version.version,
    }
    for key, value in given.items():
        if value and value != path[key]:
            raise InvalidInput(f"body {key} {value!r} differs from the URL's {path[key]!r}")


async def list_releases(session: DbSession, train: TrainPath, component: NamePath) -> JSONResponse:
    """Every release of a component on a train, newest first."""
    rows = await releases.list_releases(session, name=component, train=train)
    if not rows:
        raise NotFound(f"no release of {component} on train {train}")
    return JSONResponse({"data": [component_version(r) for r in rows]})


async def _latest(
    session: DbSession, body: schemas.ComponentVersions, default_train: str
) -> JSONResponse:
    pairs = [(c.component.name, c.version.train or default_train) for c in body.data]
    found = await releases.latest_releases(session, pairs)
    ordered = [found[p] for p in dict.fromkeys(pairs) if p in found]
    return JSONResponse({"data": [component_version(r) for r in ordered]})


async def latest_v3(session: DbSession, body: schemas.ComponentVersions) -> JSONResponse:
    """The latest release of each requested (component, train), in the order asked."""
    return await _latest(session, body, "")


async def latest_v2(session: DbSession, body: schemas.ComponentVersions) -> JSONResponse:
    """As v3, an empty train meaning `beta` (what old clients send)."""
    return await _latest(session, body, "beta")


# ---- clusters -------------------------------------------------------------------------------


async def _read_checkin(request: Request) -> schemas.Cluster:
    settings: Settings = request.app.state.settings
    limit = settings.deis_checkin_max_bytes
    declared = request.headers.get("content-length", "0")
    if not declared.isdigit() or int(declared) > limit:
        raise _too_large(limit)
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise _too_large(limit)
    return schemas.Cluster.model_validate_json(bytes(body))


class CheckinTooLarge(AerodromeError):
    status_code = 413
    code = "too_large"


def _too_large(limit: int) -> CheckinTooLarge:
    return CheckinTooLarge(f"check-in larger than {limit} bytes", payload={"max_bytes": limit})


async def _record(request: Request, session: DbSession, checkin: schemas.Cluster) -> JSONResponse:
    settings: Settings = request.app.state.settings
    row = await fleet_service.record_checkin(
        session,
        cluster_id=checkin.id,
        components=[c.model_dump(mode="json", exclude_none=True) for c in checkin.components],
        source_address=request.client.host if request.client else "unknown",
        per_minute=settings.deis_checkins_per_minute,
    )
    return JSONResponse(cluster(row))


async def checkin_v3(request: Request, session: DbSession) -> JSONResponse:
    """A cluster checks in (no credentials: bounded, strictly validated, rate limited)."""
    return await _record(request, session, await _read_checkin(request))


async def checkin_v2(request: Request, session: DbSession, cluster_id: NamePath) -> JSONResponse:
    """The v2 check-in: the cluster id is in the URL too, and must agree with the body."""
    checkin = await _read_checkin(request)
    if checkin.id != cluster_id:
        raise InvalidInput(f"body id {checkin.id!r} differs from the URL's {cluster_id!r}")
    return await _record(request, session, checkin)


async def get_cluster(session: DbSession, _reader: Reader, cluster_id: NamePath) -> JSONResponse:
    """A cluster, its first and last check-in, its components and their updates."""
    return JSONResponse(cluster(await fleet_service.get_cluster(session, cluster_id)))


async def count_clusters(session: DbSession, _reader: Reader) -> JSONResponse:
    """How many clusters ever checked in."""
    return JSONResponse(await fleet_service.count_clusters(session))


async def clusters_by_age(
    session: DbSession,
    _reader: Reader,
    created_before: Time = None,
    created_after: Time = None,
    checked_in_before: Time = None,
    checked_in_after: Time = None,
) -> JSONResponse:
    """Clusters by first and last check-in; any subset of the four bounds."""
    age = fleet_service.AgeFilter(
        created_before=created_before,
        created_after=created_after,
        checked_in_before=checked_in_before,
        checked_in_after=checked_in_after,
    )
    rows, _ = await fleet_service.list_clusters(session, age)
    return JSONResponse({"data": [cluster(r) for r in rows]})


def _counted(rows: list[dict[str, Any]]) -> JSONResponse:
    return JSONResponse({"count": len(rows), "data": [cluster(r) for r in rows]})


async def clusters_checked_in(
    session: DbSession, _reader: Reader, created_after: Time = None, created_before: Time = None
) -> JSONResponse:
    """Clusters that checked in between `created_after` and `created_before`."""
    rows = await fleet_service.clusters_checked_in(
        session, after=created_after, before=created_before
    )
    return _counted(rows)


async def persistent_clusters(
    session: DbSession,
    _reader: Reader,
    epoch: Annotated[UtcTime, Query()],
    timestamp: Annotated[UtcTime | None, Query()] = None,
) -> JSONResponse:
    """Clusters first seen after `epoch`, seen more than once, and in the day before
    `timestamp` (default now)."""
    rows = await fleet_service.persistent_clusters(
        session, epoch=epoch, timestamp=timestamp or utcnow()
    )
    return _counted(rows)


async def unknown_route(path: str) -> JSONResponse:
    raise NotFound(f"no Deis API route /{path}")


def _add(path: str, handler: Callable[..., Any], method: str, **extra: Any) -> None:
    router.add_api_route(path, handler, methods=[method], name=f"deis{path}:{method}", **extra)


CLUSTER_QUERIES: list[tuple[str, Callable[..., Any]]] = [
    ("count", count_clusters),
    ("age", clusters_by_age),
    ("checkins", clusters_checked_in),
    ("persistent", persistent_clusters),
]
for version in ("v2", "v3"):
    _add(f"/{version}/versions/{{train}}/{{component}}/{{release}}", get_release, "GET")
    _add(f"/{version}/versions/{{train}}/{{component}}/{{release}}", publish_release, "POST")
    _add(f"/{version}/versions/{{train}}/{{component}}", list_releases, "GET")
    for route, handler in CLUSTER_QUERIES:
        _add(f"/{version}/clusters/{route}", handler, "GET")
    _add(f"/{version}/clusters/{{cluster_id}}", get_cluster, "GET")
_add("/v3/versions/latest", latest_v3, "POST")
_add("/v2/versions/latest", latest_v2, "POST")
_add("/v3/clusters", checkin_v3, "POST")
_add("/v2/clusters/{cluster_id}", checkin_v2, "POST")
router.add_api_route(
    "/{path:path}",
    unknown_route,
    methods=["GET", "POST", "PUT", "DELETE", "PATCH"],
    include_in_schema=False,
)
