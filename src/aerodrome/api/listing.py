"""The list parameters every collection accepts, validated and compiled to SQL once here."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import ColumnElement

from aerodrome.api.query import QueryError, compile_query, compile_where
from aerodrome.db.resources import ListQuery, Resource
from aerodrome.errors import InvalidInput

LIST_PARAMETERS = frozenset(
    {"limit", "offset", "sort", "where", "query", "embed", "created_after", "updated_after"}
)
DEFAULT_LIMIT = 20
MAX_LIMIT = 200
# Bound by the 32-bit integers that both databases take without overflow.
MAX_OFFSET = 2**31 - 1


def check_parameters(params: Mapping[str, str], allowed: Iterable[str]) -> None:
    """Reject any query parameter that is not in `allowed`, naming the valid ones."""
    valid = set(allowed)
    unknown = sorted(set(params) - valid)
    if unknown:
        raise InvalidInput(
            f"unknown parameter {', '.join(unknown)}; valid parameters: {', '.join(sorted(valid))}",
            payload={"unknown": unknown, "valid": sorted(valid)},
        )


def parse_list_query(
    params: Mapping[str, str], resource: Resource, *, extra: Iterable[str] = ()
) -> ListQuery:
    """Turn `limit, offset, sort, where, query, embed, created_after, updated_after` into SQL.

    Clients repeat the same list requests (dashboards, agents polling), so compiled queries
    are remembered; SQL expressions are immutable, so sharing them is safe.
    """
    return _compiled(resource, tuple(sorted(dict(params).items())), frozenset(extra))


@lru_cache(maxsize=4096)
def _compiled(
    resource: Resource, items: tuple[tuple[str, str], ...], extra: frozenset[str]
) -> ListQuery:
    params = dict(items)
    check_parameters(params, LIST_PARAMETERS | extra)
    fields = resource.fields
    filters: list[ColumnElement[bool]] = []
    try:
        if params.get("where"):
            filters.append(compile_where(params["where"], fields))
        if params.get("query"):
            filters.append(compile_query(params["query"], fields))
    except QueryError as exc:
        raise InvalidInput(str(exc)) from exc
    for name, column in (("created_after", "created_at"), ("updated_after", "updated_at")):
        if name in params:
            filters.append(fields[column] > _timestamp(name, params[name]))
    return ListQuery(
        limit=integer_parameter(params, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT),
        offset=integer_parameter(params, "offset", 0, 0, MAX_OFFSET),
        filters=tuple(filters),
        order_by=parse_sort(params.get("sort") or ",".join(resource.default_sort), fields),
        embeds=parse_embed(params.get("embed", ""), resource),
    )


def parse_sort(
    text: str, fields: Mapping[str, ColumnElement[Any]]
) -> tuple[ColumnElement[Any], ...]:
    """`f1,-f2` → ORDER BY f1 ASC, f2 DESC; unknown keys are a 400 naming the valid ones."""
    order: list[ColumnElement[Any]] = []
    for raw in filter(None, (part.strip() for part in text.split(","))):
        name = raw.removeprefix("-")
        if name not in fields:
            raise InvalidInput(
                f"unknown sort key {name!r}; valid sort keys: {', '.join(sorted(fields))}",
                payload={"valid": sorted(fields)},
            )
        order.append(fields[name].desc() if raw.startswith("-") else fields[name].asc())
    return tuple(order)


def parse_embed(text: str, resource: Resource) -> tuple[str, ...]:
    names = tuple(dict.fromkeys(filter(None, (n.strip() for n in text.split(",")))))
    unknown = [n for n in names if n not in resource.relations]
    if unknown:
        valid = sorted(resource.relations)
        raise InvalidInput(
            f"unknown embed {', '.join(unknown)}; valid embeds: {', '.join(valid) or 'none'}",
            payload={"valid": valid},
        )
    return names


def integer_parameter(
    params: Mapping[str, str], name: str, default: int, low: int, high: int
) -> int:
    """Query parameter `name` as an integer in [low, high]; `default` when absent or blank."""
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise InvalidInput(f"{name} must be an integer, got {raw!r}") from None
    if not low <= value <= high:
        raise InvalidInput(f"{name} must be between {low} and {high}, got {value}")
    return value


def _timestamp(name: str, raw: str) -> datetime:
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        raise InvalidInput(f"{name} must be an ISO-8601 timestamp, got {raw!r}") from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)
