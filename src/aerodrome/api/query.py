"""The `where` and `query` filters of list requests, parsed and compiled to SQL expressions.

`where=k:v,k2:v2` is an AND of equalities (`v*` is a substring match, an empty value is NULL).
`query=` is DCI's nested DSL: `and(eq(name,foo),or(like(version,4.%),null(url)))` with
`eq ne lt le gt ge like ilike contains not_contains null and or not`.
Values are coerced to the column's type and always bound as parameters.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import (
    JSON,
    Boolean,
    ColumnElement,
    DateTime,
    Float,
    Integer,
    Numeric,
    Uuid,
    and_,
    bindparam,
    func,
    not_,
    or_,
    true,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import BindParameter
from sqlalchemy.sql.expression import ColumnElement as ColumnElementBase
from sqlalchemy.types import TypeDecorator, TypeEngine

MAX_LENGTH = 4096
MAX_DEPTH = 32
Fields = Mapping[str, ColumnElement[Any]]


class QueryError(ValueError):
    """A filter that cannot be understood; the message says what is wrong."""


# --- where ---------------------------------------------------------------------------------


def compile_where(text: str, fields: Fields) -> ColumnElement[bool]:
    """`k:v,k2:v2` → AND of conditions on the named fields."""
    _check_length(text)
    clauses = []
    for part in filter(None, text.split(",")):
        name, sep, value = part.partition(":")
        if not sep:
            raise QueryError(f"where clause {part!r} must be field:value")
        column = _field(fields, name.strip())
        clauses.append(_where_clause(column, name.strip(), value))
    return and_(true(), *clauses)


def _where_clause(column: ColumnElement[Any], name: str, value: str) -> ColumnElement[bool]:
    if value == "":
        return column.is_(None)
    if value.endswith("*") and _is_text(column):
        substring: ColumnElement[bool] = column.contains(value[:-1], autoescape=True)
        return substring
    equal: ColumnElement[bool] = column == _coerce(column, name, value)
    return equal


# --- query DSL -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Call:
    operator: str
    arguments: tuple[Call | str, ...]


_TOKEN = re.compile(
    r"""\s*(?:(?P<punct>[(),])|'(?P<sq>[^']*)'|"(?P<dq>[^"]*)"|(?P<bare>[^(),]+))"""
)


def _tokenize(text: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    position = 0
    while position < len(text):
        if text[position:].strip() == "":
            break
        match = _TOKEN.match(text, position)
        if match is None:  # pragma: no cover - the pattern accepts every character
            raise QueryError(f"cannot read query at position {position}")
        position = match.end()
        if match.group("punct"):
            tokens.append(("punct", match.group("punct")))
        elif match.group("bare") is not None:
            tokens.append(("value", match.group("bare").strip()))
        else:
            tokens.append(
                ("value", match.group("sq") if match.group("sq") is not None else match.group("dq"))
            )
    return tokens


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = _tokenize(text)
        self.index = 0

    def parse(self) -> Call:
        call = self._call(depth=1)
        if self.index != len(self.tokens):
            raise QueryError(
                f"unexpected {self.tokens[self.index][1]!r} after the end of the query"
            )
        return call

    def _next(self, expected: str) -> tuple[str, str]:
        if self.index >= len(self.tokens):
            raise QueryError(f"query ends early: expected {expected}")
        token = self.tokens[self.index]
        self.index += 1
        return token

    def _call(self, depth: int) -> Call:
        if depth > MAX_DEPTH:
            raise QueryError(f"query nests deeper than {MAX_DEPTH} levels")
        kind, operator = self._next("an operator")
        if kind != "value":
            raise QueryError(f"expected an operator, got {operator!r}")
        if self._next("'('") != ("punct", "("):
            raise QueryError(f"expected '(' after {operator}")
        arguments: list[Call | str] = []
        while True:
            arguments.append(self._argument(operator, depth))
            kind, value = self._next("',' or ')'")
            if (kind, value) == ("punct", ")"):
                return Call(operator.lower(), tuple(arguments))
            if (kind, value) != ("punct", ","):
                raise QueryError(f"expected ',' or ')', got {value!r}")

    def _argument(self, operator: str, depth: int) -> Call | str:
        if operator.lower() in _LOGICAL:
            return self._call(depth + 1)
        kind, value = self._next("a value")
        if kind != "value":
            raise QueryError(f"expected a value in {operator}(), got {value!r}")
        return value


def compile_query(text: str, fields: Fields) -> ColumnElement[bool]:
    """DCI's nested query DSL → one SQL boolean expression."""
    _check_length(text)
    if not text.strip():
        return true()
    return _compile(_Parser(text).parse(), fields)


def _compile(call: Call, fields: Fields) -> ColumnElement[bool]:
    if call.operator in _LOGICAL:
        parts = [_compile(a, fields) for a in call.arguments if isinstance(a, Call)]
        return _LOGICAL[call.operator](parts)
    if (
        call.operator not in _COMPARISONS
        and call.operator not in _LIST_OPERATORS
        and call.operator != "null"
    ):
        valid = sorted({*_LOGICAL, *_COMPARISONS, *_LIST_OPERATORS, "null"})
        raise QueryError(f"unknown operator {call.operator!r}; valid operators: {', '.join(valid)}")
    name, *values = (str(a) for a in call.arguments)
    column = _field(fields, name)
    if call.operator == "null":
        _arity(call, 1)
        return column.is_(None)
    if call.operator in _LIST_OPERATORS:
        return _list_clause(call, column, name, values)
    _arity(call, 2)
    if _is_json(column):
        raise QueryError(
            f"{call.operator}() cannot compare the list field {name!r}: use contains()"
        )
    if call.operator in ("like", "ilike") and not _is_text(column):
        raise QueryError(f"{call.operator}() needs a text field, {name!r} is not one")
    return _COMPARISONS[call.operator](column, _coerce(column, name, values[0]))


def _not(parts: list[ColumnElement[bool]]) -> ColumnElement[bool]:
    if len(parts) != 1:
        raise QueryError("not() takes exactly one expression")
    return not_(parts[0])


def _list_clause(
    call: Call, column: ColumnElement[Any], name: str, values: list[str]
) -> ColumnElement[bool]:
    if not _is_json(column):
        raise QueryError(f"{call.operator}() needs a list field, {name!r} is not one")
    if not values:
        raise QueryError(f"{call.operator}() needs at least one value after the field")
    if call.operator == "contains":
        return JsonContains(column, values, every=True)
    # A missing list contains nothing, so it passes not_contains.
    return or_(column.is_(None), not_(JsonContains(column, values, every=False)))


def _arity(call: Call, expected: int) -> None:
    if len(call.arguments) != expected:
        raise QueryError(
            f"{call.operator}() takes {expected} argument{'s' if expected > 1 else ''}, "
            f"got {len(call.arguments)}"
        )


_LOGICAL: dict[str, Callable[[list[ColumnElement[bool]]], ColumnElement[bool]]] = {
    "and": lambda parts: and_(true(), *parts),
    "or": lambda parts: or_(*parts),
    "not": _not,
}
_COMPARISONS: dict[str, Callable[[ColumnElement[Any], Any], ColumnElement[bool]]] = {
    "eq": lambda c, v: c == v,
    "ne": lambda c, v: c != v,
    "lt": lambda c, v: c < v,
    "le": lambda c, v: c <= v,
    "gt": lambda c, v: c > v,
    "ge": lambda c, v: c >= v,
    "like": lambda c, v: c.like(v),
    "ilike": lambda c, v: func.lower(c).like(func.lower(v)),
}
_LIST_OPERATORS = frozenset({"contains", "not_contains"})
_FIELD_OPERATORS = frozenset({*_COMPARISONS, *_LIST_OPERATORS, "null"})


# --- JSON list containment, on both databases ---------------------------------------------


class JsonContains(ColumnElementBase[bool]):
    """`column` (a JSON list) contains every (or any) of `values`."""

    inherit_cache = False
    type = Boolean()

    def __init__(self, column: ColumnElement[Any], values: list[str], *, every: bool) -> None:
        self.column = column
        self.values = values
        self.every = every


@compiles(JsonContains, "postgresql")
def _contains_postgresql(element: JsonContains, compiler: SQLCompiler, **kw: Any) -> str:
    column = compiler.process(element.column, **kw)
    if element.every:
        document: BindParameter[str] = bindparam(
            None, orjson.dumps(element.values).decode(), unique=True
        )
        return f"({column} @> CAST({compiler.process(document, **kw)} AS JSONB))"
    values = bindparam(None, element.values, unique=True, type_=_TEXT_ARRAY)
    return f"({column} ?| {compiler.process(values, **kw)})"


@compiles(JsonContains)
def _contains_generic(element: JsonContains, compiler: SQLCompiler, **kw: Any) -> str:
    column = compiler.process(element.column, **kw)
    # Only the compiled column and bound-parameter placeholders are interpolated.
    checks = [
        f"EXISTS (SELECT 1 FROM json_each({column}) WHERE json_each.value = "  # noqa: S608
        f"{compiler.process(bindparam(None, value, unique=True), **kw)})"
        for value in element.values
    ]
    return "(" + (" AND " if element.every else " OR ").join(checks) + ")"


def _text_array() -> TypeEngine[Any]:
    from sqlalchemy.dialects.postgresql import ARRAY
    from sqlalchemy.types import Text

    return ARRAY(Text())


_TEXT_ARRAY = _text_array()


# --- fields and values --------------------------------------------------------------------


def _field(fields: Fields, name: str) -> ColumnElement[Any]:
    if name not in fields:
        raise QueryError(f"unknown field {name!r}; valid fields: {', '.join(sorted(fields))}")
    return fields[name]


def _base_type(column: ColumnElement[Any]) -> TypeEngine[Any]:
    kind: TypeEngine[Any] = column.type
    while isinstance(kind, TypeDecorator):
        kind = kind.impl_instance
    return kind


def _is_json(column: ColumnElement[Any]) -> bool:
    return isinstance(_base_type(column), JSON)


def _is_text(column: ColumnElement[Any]) -> bool:
    kind = _base_type(column)
    return not isinstance(kind, JSON | Uuid | Boolean | Integer | Float | Numeric | DateTime)


def _coerce(column: ColumnElement[Any], name: str, value: str) -> Any:
    kind = _base_type(column)
    try:
        if isinstance(kind, Uuid):
            return uuid.UUID(value)
        if isinstance(kind, Boolean):
            return _boolean(value)
        if isinstance(kind, Integer):
            return int(value)
        if isinstance(kind, Float | Numeric):
            return float(value)
        if isinstance(kind, DateTime):
            moment = datetime.fromisoformat(value)
            return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    except ValueError:
        raise QueryError(f"{value!r} is not a valid value for {name!r}") from None
    return value


def _boolean(value: str) -> bool:
    lowered = value.lower()
    if lowered in ("true", "1"):
        return True
    if lowered in ("false", "0"):
        return False
    raise ValueError(value)


def _check_length(text: str) -> None:
    if len(text) > MAX_LENGTH:
        raise QueryError(f"filter longer than {MAX_LENGTH} characters")
