"""paddles' `/nodes/`: the inventory and locks of test nodes, on the pools service."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import Response

from aerodrome.api.deps import DbSession
from aerodrome.api.listing import check_parameters, integer_parameter
from aerodrome.api.responses import JSONResponse
from aerodrome.compat.paddles import common
from aerodrome.compat.paddles import translate as t
from aerodrome.compat.paddles.common import PaddlesCaller
from aerodrome.db.resources import Row
from aerodrome.db.types import utcnow
from aerodrome.errors import InvalidInput, NotFound
from aerodrome.identity.principal import Identity
from aerodrome.pools import service as pools
from aerodrome.work import run_jobs
from aerodrome.work.status import TO_PADDLES

_TEXT = {
    "machine_type": 255,
    "os_type": 64,
    "os_version": 64,
    "arch": 64,
    "locked_by": 255,
    "mac_address": 64,
    "vm_host": 255,
    "description": None,
    "ssh_pub_key": None,
}
_BOOLEANS = ("up", "is_vm", "locked")
LIST_PARAMETERS = ("locked", "machine_type", "os_type", "os_version", "arch", "locked_by", "up")


def node_json(row: Row) -> dict[str, Any]:
    """A node as paddles shows it."""
    shown = {key: row.get(key) for key in (*_TEXT, "name", "up", "is_vm", "locked")}
    shown["locked_since"] = t.format_time(row.get("locked_since"))
    # paddles' vm_host is a relation it serializes as the host node, and `teuthology-lock
    # --list` reads its `name`; writes name the host by its name.
    vm_host = row.get("vm_host")
    shown["vm_host"] = {"name": vm_host} if vm_host else None
    return shown


def _text(body: Mapping[str, Any], name: str) -> str | None:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise InvalidInput(f"{name} must be a string, got {value!r}")
    size = _TEXT[name]
    if size is not None and len(str(value)) > size:
        raise InvalidInput(f"{name} is longer than {size} characters")
    if "\x00" in str(value):
        raise InvalidInput(f"{name} may not contain NUL characters")
    return str(value)


def _inventory(body: Mapping[str, Any]) -> dict[str, Any]:
    """The node fields a body sets (unknown keys are ignored, as paddles does)."""
    values: dict[str, Any] = {name: _text(body, name) for name in _TEXT if name in body}
    for name in ("up", "is_vm"):
        if body.get(name) is not None:
            values[name] = common.body_boolean(body, name)
    values.pop("locked_by", None)
    return values


def _name(raw: Any) -> str:
    if not isinstance(raw, str) or not raw.strip() or len(raw) > 255 or "/" in raw:
        raise InvalidInput("a node needs a name of 1 to 255 characters without '/'")
    return raw


def _filters(params: Mapping[str, str]) -> pools.NodeFilter:
    machine_type = params.get("machine_type")
    return pools.NodeFilter(
        locked=common.boolean(params, "locked"),
        up=common.boolean(params, "up"),
        machine_types=machine_type.split("|") if machine_type else None,
        os_type=params.get("os_type") or None,
        os_version=params.get("os_version") or None,
        arch=params.get("arch") or None,
        locked_by=params.get("locked_by") or None,
    )


async def list_nodes(request: Request, session: DbSession, identity: PaddlesCaller) -> Response:
    """GET /nodes/: filters locked, machine_type (a|b), os_type, os_version, locked_by, up,
    count."""
    params = request.query_params
    check_parameters(params, (*LIST_PARAMETERS, "count"))
    limit = integer_parameter(params, "count", 100_000, 1, 100_000) if "count" in params else None
    rows = await pools.list_nodes(session, _filters(params), limit=limit)
    return JSONResponse([node_json(row) for row in rows])


async def create_node(request: Request, session: DbSession, identity: PaddlesCaller) -> Response:
    """POST /nodes/ {"name": ..., inventory fields}"""
    body = common.json_object(await common.json_body(request))
    row = await pools.create_node(session, _name(body.get("name")), _inventory(body))
    if common.body_boolean(body, "locked"):
        row = await pools.lock_node(
            session, row["name"], locked_by=_text(body, "locked_by"), description=None
        )
    return JSONResponse(node_json(row))


async def _lock(session: AsyncSession, name: str, body: Mapping[str, Any]) -> Row:
    """paddles' lock rules: 400 without locked_by, 403 for a lock held (or not held)."""
    locked = common.body_boolean(body, "locked")
    if locked is None:
        raise InvalidInput("a lock request needs locked: true or false")
    operation = pools.lock_node if locked else pools.unlock_node
    description = _text(body, "description") if "description" in body else None
    return await operation(
        session, name, locked_by=_text(body, "locked_by"), description=description
    )


async def _job_stats(
    request: Request, session: AsyncSession, identity: Identity
) -> dict[str, dict[str, int]]:
    params = request.query_params
    check_parameters(params, ("machine_type", "since_days"))
    days = integer_parameter(params, "since_days", 14, 1, 3650)
    machine_type = params.get("machine_type")
    counts = await run_jobs.node_job_counts(
        session,
        identity,
        since=utcnow() - timedelta(days=days),
        machine_types=machine_type.split("|") if machine_type else None,
    )
    stats: dict[str, dict[str, int]] = {}
    for node, by_status in counts.items():
        shown = stats.setdefault(node, {})
        for status, count in by_status.items():
            word = TO_PADDLES.get(status, "unknown")
            shown[word] = shown.get(word, 0) + count
    return stats


async def read(
    request: Request, session: DbSession, identity: PaddlesCaller, path: str
) -> Response:
    """GET below `/nodes/`: a node, its jobs, machine types, job statistics."""
    segments = [segment for segment in path.split("/") if segment]
    if segments == ["machine_types"]:
        return JSONResponse(await pools.machine_types(session))
    if segments == ["job_stats"]:
        return JSONResponse(await _job_stats(request, session, identity))
    if len(segments) == 1:
        return JSONResponse(node_json(await pools.get_node(session, segments[0])))
    if len(segments) == 2 and segments[1] == "jobs":
        params = request.query_params
        check_parameters(params, ("count", "fields"))
        count = integer_parameter(params, "count", 10, 1, 1000)
        await pools.get_node(session, segments[0])
        rows = await run_jobs.jobs_on_node(session, identity, segments[0], limit=count)
        fields = common.fields_param(params)
        return JSONResponse([t.job_json(row, fields) for row in rows])
    raise NotFound("no such paddles resource")


async def write(
    request: Request, session: DbSession, identity: PaddlesCaller, path: str
) -> Response:
    """POST lock_many/unlock_many; PUT a node or its lock; DELETE a node."""
    segments = [segment for segment in path.split("/") if segment]
    method = request.method
    if method == "DELETE" and len(segments) == 1:
        await pools.delete_node(session, segments[0])
        return JSONResponse({})
    body = common.json_object(await common.json_body(request))
    if method == "POST" and segments == ["lock_many"]:
        return JSONResponse([node_json(row) for row in await _lock_many(session, body)])
    if method == "POST" and segments == ["unlock_many"]:
        names = body.get("names")
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise InvalidInput("names must be a list of node names")
        locked_by = _text(body, "locked_by")
        rows = await pools.unlock_many(session, names=names, locked_by=locked_by)
        return JSONResponse([node_json(row) for row in rows])
    if method == "PUT" and len(segments) == 2 and segments[1] == "lock":
        return JSONResponse(node_json(await _lock(session, segments[0], body)))
    if method == "PUT" and len(segments) == 1:
        row = await pools.update_node(session, segments[0], _inventory(body))
        if "locked" in body and common.body_boolean(body, "locked") != row["locked"]:
            row = await _lock(session, segments[0], body)
        return JSONResponse(node_json(row))
    raise NotFound("no such paddles resource")


async def _lock_many(session: AsyncSession, body: Mapping[str, Any]) -> list[Row]:
    count = body.get("count")
    if isinstance(count, bool) or not isinstance(count, int):
        raise InvalidInput("could not find required key: 'count' (an integer)")
    machine_type = _text(body, "machine_type")
    if not machine_type:
        raise InvalidInput("could not find required key: 'machine_type'")
    filters = pools.NodeFilter(
        machine_types=machine_type.split("|"),
        os_type=_text(body, "os_type"),
        os_version=_text(body, "os_version"),
        arch=_text(body, "arch"),
    )
    return await pools.lock_many(
        session,
        count=count,
        locked_by=_text(body, "locked_by"),
        filters=filters,
        description=_text(body, "description"),
    )


def add_routes(router: APIRouter) -> None:
    for path in ("/nodes", "/nodes/"):
        router.add_api_route(path, list_nodes, methods=["GET"])
        router.add_api_route(path, create_node, methods=["POST"])
    router.add_api_route("/nodes/{path:path}", read, methods=["GET"])
    router.add_api_route("/nodes/{path:path}", write, methods=["POST", "PUT", "DELETE"])
