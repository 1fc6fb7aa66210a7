"""What every paddles route shares: its error shape, who may call it, and its parameters.

paddles answers errors as `{"message": ...}` with its own status codes, never HTML. The routes
of the façade use `PaddlesRoute`, which turns every domain error (including the authentication
errors raised while resolving dependencies) into that shape, so the native API's error handlers
never see them.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any

import orjson
from fastapi import Depends, Request
from fastapi.exceptions import RequestValidationError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from aerodrome.api import deps as api_deps
from aerodrome.api.responses import JSONResponse
from aerodrome.api.routing import Route
from aerodrome.db.session import Database
from aerodrome.errors import AerodromeError, Conflict, InvalidInput, Unauthorized
from aerodrome.identity.principal import Identity
from aerodrome.pools.service import NotEnoughNodes
from aerodrome.settings import Settings

# paddles reports a duplicate (run, job, node, queue) as an invalid request, and teuthology
# only looks at the message ("... already exists"); too few free nodes is its 503.
_STATUS: dict[type[AerodromeError], int] = {Conflict: 400, NotEnoughNodes: 503}


def paddles_error(status_code: int, message: str) -> JSONResponse:
    headers = {"WWW-Authenticate": 'Basic realm="paddles"'} if status_code == 401 else None
    return JSONResponse({"message": message}, status_code=status_code, headers=headers)


async def _domain_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, AerodromeError)
    return paddles_error(_STATUS.get(type(exc), exc.status_code), exc.message)


async def _validation_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    problems = "; ".join(str(error.get("msg")) for error in exc.errors())
    return paddles_error(400, f"invalid request: {problems}")


async def _http_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    return paddles_error(exc.status_code, str(exc.detail))


_HANDLERS: dict[type[Exception], Callable[[Request, Exception], Awaitable[Response]]] = {
    AerodromeError: _domain_error,
    RequestValidationError: _validation_error,
    StarletteHTTPException: _http_error,
}


def _handler_for(exc: Exception) -> Callable[[Request, Exception], Awaitable[Response]] | None:
    return next((h for kind, h in _HANDLERS.items() if isinstance(exc, kind)), None)


class PaddlesRoute(Route):
    """A route whose errors come out in paddles' shape.

    The error is answered inside the route, so the request's unit of work would not see it:
    the sessions the route opened are rolled back first, and nothing of a failed write stays.
    """

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            try:
                return await handler(request)
            except Exception as exc:
                answer = _handler_for(exc)
                if answer is None:
                    raise
                for session in getattr(request.state, "paddles_sessions", ()):
                    await session.rollback()
                return await answer(request, exc)

        return handle


def _remember(request: Request, session: AsyncSession) -> None:
    sessions: list[AsyncSession] = getattr(request.state, "paddles_sessions", [])
    if session not in sessions:
        sessions.append(session)
    request.state.paddles_sessions = sessions


def settings_of(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def _caller(
    request: Request,
    session: api_deps.DbSession,
    identity: Annotated[Identity, Depends(api_deps.resolve_identity)],
) -> Identity:
    """Reads follow `paddles_public`; writes need credentials unless anonymous writes are on."""
    _remember(request, session)
    settings = settings_of(request)
    if identity.is_authenticated:
        return identity
    if request.method in api_deps.SAFE_METHODS and settings.paddles_public:
        return identity
    if request.method not in api_deps.SAFE_METHODS and settings.paddles_anonymous_writes:
        return identity
    raise Unauthorized("authentication required")


def require_writer(request: Request, identity: Identity) -> None:
    """For the writes paddles does with a GET (`pop_queue`)."""
    if not identity.is_authenticated and not settings_of(request).paddles_anonymous_writes:
        raise Unauthorized("authentication required")


async def _write_unit_of_work(
    request: Request, session: api_deps.DbSession
) -> AsyncIterator[AsyncSession]:
    if request.method not in api_deps.SAFE_METHODS:
        yield session  # already the request's write transaction
        return
    database: Database = request.app.state.database
    async with database.unit_of_work(write=True) as writer:
        _remember(request, writer)
        yield writer


PaddlesCaller = Annotated[Identity, Depends(_caller)]
# A write transaction whatever the method (paddles claims jobs with a GET).
WriteSession = Annotated[AsyncSession, Depends(_write_unit_of_work, scope="function")]


_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})


def boolean(params: Mapping[str, str], name: str) -> bool | None:
    """paddles' booleans: 0/1/true/false in any case; absent is None."""
    raw = params.get(name)
    if raw is None or raw == "":
        return None
    if raw.lower() in _TRUE:
        return True
    if raw.lower() in _FALSE:
        return False
    raise InvalidInput(f"{name} must be a boolean (0, 1, true or false), got {raw!r}")


def body_boolean(body: Mapping[str, Any], name: str) -> bool | None:
    value = body.get(name)
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int | str) and str(value).lower() in _TRUE | _FALSE:
        return str(value).lower() in _TRUE
    raise InvalidInput(f"{name} must be a boolean, got {value!r}")


def parse_day(name: str, raw: str) -> datetime:
    """A `YYYY-MM-DD` day as the UTC midnight it starts at."""
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        raise InvalidInput(f"{name} must be a date like 2024-01-31, got {raw!r}") from None
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def parse_since(raw: str) -> datetime:
    """`since`: a day, or a timestamp (paddles' or ISO-8601), UTC unless it says otherwise."""
    try:
        value = datetime.fromisoformat(raw.strip())
    except ValueError:
        raise InvalidInput(f"since must be a date or a timestamp, got {raw!r}") from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


ONE_DAY = timedelta(days=1)


async def json_body(request: Request) -> Any:
    """The request body as JSON (whatever the Content-Type); empty means an empty object."""
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        return orjson.loads(raw)
    except ValueError:
        pass
    try:  # orjson refuses integers beyond 64 bits, which are still JSON
        return json.loads(raw)
    except ValueError:
        raise InvalidInput("could not decode JSON body") from None


def json_object(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise InvalidInput("the request body must be a JSON object")
    return body


def fields_param(params: Mapping[str, str]) -> list[str] | None:
    raw = params.get("fields")
    if not raw:
        return None
    return [name.strip() for name in raw.split(",") if name.strip()]
