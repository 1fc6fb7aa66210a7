"""Compile the `where` and `query` list filters of the REST API into SQL boolean expressions.

`where=k:v,k2:v2` is an AND of equalities: a `*` in a value is a wildcard (so `foo*` is a
prefix match) and an empty value means NULL.
`query=` is DCI's nested DSL, e.g. `and(eq(name,foo),or(like(version,4.%),null(url)))`.

Nothing is filtered in Python. Values are coerced to their column's type and bound as
parameters, and the operators whose SQL differs between databases (case-sensitive LIKE, JSON
list containment, JSON null) render per dialect so SQLite and PostgreSQL return the same rows.
"""

from __future__ import annotations

import enum
import json
import math
import operator
import re
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from typing import Any, Literal

from sqlalchemy import (
    JSON,
    Boolean,
    ColumnElement,
    DateTime,
    Enum,
    Float,
    FromClause,
    Integer,
    Numeric,
    String,
    Uuid,
    and_,
    cast,
    func,
    literal,
    not_,
    or_,
    select,
    true,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.visitors import InternalTraversal
from sqlalchemy.types import TypeDecorator, TypeEngine

MAX_LENGTH = 4096
MAX_DEPTH = 32

Fields = Mapping[str, ColumnElement[Any]]


class QueryError(ValueError):
    """A filter that cannot be compiled; the message tells the client what to fix."""


def compile_where(text: str, fields: Fields) -> ColumnElement[bool]:
    """Compile `field:value,field2:value2` into the AND of one condition per pair.

    `field:value` is equality, `*` in a text value matches any run of characters (`foo*`
    is a prefix match; `%` and `_` match literally), `field:` is IS NULL and, on a JSON list
    field, `field:value` means the list contains `value`. Only the first `:` separates.
    """
    _check_length(text)
    parts = (part.strip() for part in text.split(","))
    return and_(true(), *(_where_condition(part, fields) for part in parts if part))


def compile_query(text: str, fields: Fields) -> ColumnElement[bool]:
    """Compile DCI's query DSL, e.g. `and(eq(name,foo),not(null(url)))`, into one condition.

    Operators: eq ne lt le gt ge like ilike contains not_contains null and or not. Values
    may be quoted with ' or " to hold `,` `(` or `)`; whitespace around tokens is ignored.
    """
    _check_length(text)
    if not text.strip():
        return true()
    return _compile(_Parser(text).parse(), fields)


def _check_length(text: str) -> None:
    if len(text) > MAX_LENGTH:
        raise QueryError(f"filter is {len(text)} characters long; the limit is {MAX_LENGTH}")


# --- fields, types and values ----------------------------------------------------------------


def _field(fields: Fields, name: str) -> ColumnElement[Any]:
    column = fields.get(name)
    if column is None:
        raise QueryError(f"unknown field {name!r}; valid fields: {', '.join(sorted(fields))}")
    return column


def _base_type(column: ColumnElement[Any]) -> TypeEngine[Any]:
    kind: TypeEngine[Any] = column.type
    # A decorated type (UTCDateTime) takes the same values as the type it stores.
    while isinstance(kind, TypeDecorator):
        kind = kind.impl_instance
    return kind


def is_list_field(column: ColumnElement[Any]) -> bool:
    """Whether `column` holds a JSON list (tags and the like)."""
    return isinstance(_base_type(column), JSON)


def _require_text(column: ColumnElement[Any], name: str, what: str) -> None:
    if not isinstance(_base_type(column), String):
        raise QueryError(f"{what} needs a text field, and {name!r} is not one")


def _require_scalar(column: ColumnElement[Any], name: str, what: str) -> None:
    if is_list_field(column):
        raise QueryError(
            f"{what} cannot be used on the list field {name!r}; "
            "use contains(), not_contains() or null()"
        )


def _to_boolean(text: str, kind: TypeEngine[Any]) -> bool:
    lowered = text.lower()
    if lowered not in ("true", "false", "1", "0"):
        raise ValueError(text)
    return lowered in ("true", "1")


def _to_float(text: str, kind: TypeEngine[Any]) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise ValueError(text)
    return number


def _to_datetime(text: str, kind: TypeEngine[Any]) -> datetime:
    moment = datetime.fromisoformat(text)
    # The API speaks UTC, so a value without an offset is UTC rather than server-local.
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    # asyncpg refuses an aware value for a column declared without a time zone.
    zoned = isinstance(kind, DateTime) and kind.timezone
    return moment if zoned else moment.replace(tzinfo=None)


_Converter = Callable[[str, TypeEngine[Any]], Any]
_Kinds = type[TypeEngine[Any]] | tuple[type[TypeEngine[Any]], ...]
_COERCIONS: tuple[tuple[_Kinds, _Converter, str], ...] = (
    (Uuid, lambda text, kind: uuid.UUID(text), "UUID"),
    (Boolean, _to_boolean, "boolean (true, false, 1 or 0)"),
    (Integer, lambda text, kind: int(text), "integer"),
    # Float is no longer a Numeric subclass in SQLAlchemy 2.1.
    ((Float, Numeric), _to_float, "number"),
    (DateTime, _to_datetime, "ISO-8601 timestamp"),
)


def coerce(column: ColumnElement[Any], name: str, text: str) -> Any:
    """`text` as a value of `column`'s type (QueryError naming `name` if it is not one)."""
    kind = _base_type(column)
    for kind_class, convert, expected in _COERCIONS:
        if isinstance(kind, kind_class):
            try:
                return convert(text, kind)
            except ValueError:
                raise QueryError(f"{text!r} is not a valid {expected} for field {name!r}") from None
    if isinstance(kind, Enum) and kind.enums and text not in kind.enums:
        # A native PostgreSQL enum would reject the value with a server error instead.
        valid = ", ".join(sorted(kind.enums))
        raise QueryError(f"{text!r} is not a valid value for field {name!r}; valid values: {valid}")
    return text


# --- SQL that differs between SQLite and PostgreSQL ------------------------------------------


class _PerDialect(ColumnElement[bool]):
    """One condition spelled two ways: `sqlite` on SQLite, `default` (PostgreSQL) elsewhere.

    Both spellings are built up front and are part of the cache key, so a cached statement
    is replayed with the new values of every bound parameter.
    """

    inherit_cache = True
    _traverse_internals = [
        ("default", InternalTraversal.dp_clauseelement),
        ("sqlite", InternalTraversal.dp_clauseelement),
    ]
    type = Boolean()
    # Already a condition: SQLite must not get `= 1` appended, nor NOT spelled `= 0`.
    _is_implicitly_boolean = True

    def __init__(self, default: ColumnElement[Any], sqlite: ColumnElement[Any]) -> None:
        self.default = default
        self.sqlite = sqlite

    @property
    def _from_objects(self) -> list[FromClause]:
        return self.default._from_objects


@compiles(_PerDialect)
def _render_default(element: _PerDialect, compiler: SQLCompiler, **kw: Any) -> str:
    return f"({compiler.process(element.default, **kw)})"


@compiles(_PerDialect, "sqlite")
def _render_sqlite(element: _PerDialect, compiler: SQLCompiler, **kw: Any) -> str:
    return f"({compiler.process(element.sqlite, **kw)})"


class _Wildcard(enum.Enum):
    ANY = "%"
    ONE = "_"


# Literal text and wildcards, so one pattern can be written as LIKE or as GLOB.
_Pattern = tuple[str | _Wildcard, ...]
_LIKE_SPECIAL = re.compile(r"[%_\\]")
_GLOB_SPECIAL = re.compile(r"[*?\[]")
_GLOB_WILDCARDS = {_Wildcard.ANY: "*", _Wildcard.ONE: "?"}


def _star_pattern(text: str) -> _Pattern:
    parts: list[str | _Wildcard] = []
    for index, chunk in enumerate(text.split("*")):
        if index:
            parts.append(_Wildcard.ANY)
        if chunk:
            parts.append(chunk)
    return tuple(parts)


def _like_pattern(text: str) -> _Pattern:
    parts: list[str | _Wildcard] = []
    characters = iter(text)
    for character in characters:
        if character == "\\":
            escaped = next(characters, None)
            if escaped is None:
                raise QueryError(
                    f"pattern {text!r} ends with the escape character '\\'; "
                    "write '\\\\' for a literal backslash"
                )
            parts.append(escaped)
        else:
            parts.append(_Wildcard(character) if character in "%_" else character)
    return tuple(parts)


def _like_text(pattern: _Pattern) -> str:
    return "".join(
        part.value if isinstance(part, _Wildcard) else _LIKE_SPECIAL.sub(r"\\\g<0>", part)
        for part in pattern
    )


def _glob_text(pattern: _Pattern) -> str:
    return "".join(
        _GLOB_WILDCARDS[part]
        if isinstance(part, _Wildcard)
        else _GLOB_SPECIAL.sub(r"[\g<0>]", part)
        for part in pattern
    )


def _matches(
    column: ColumnElement[Any], pattern: _Pattern, *, case_sensitive: bool
) -> ColumnElement[bool]:
    if isinstance(_base_type(column), Enum):
        # PostgreSQL has no LIKE for native enum types; their labels are text.
        column = cast(column, String())
    like = _like_text(pattern)
    if not case_sensitive:
        # ILIKE on PostgreSQL, lower() LIKE lower() on SQLite.
        return column.ilike(like, escape="\\")
    # SQLite's LIKE ignores case; its GLOB is the case-sensitive equivalent.
    glob = column.op("GLOB", is_comparison=True)(_glob_text(pattern))
    return _PerDialect(default=column.like(like, escape="\\"), sqlite=glob)


def _json_contains(
    column: ColumnElement[Any], values: Sequence[str], *, every: bool
) -> ColumnElement[bool]:
    """`column` is a JSON list holding every (or at least one) of `values`; never NULL, so
    that NOT of it means the same on both databases."""
    combine = and_ if every else or_
    documents = [list(values)] if every else [[value] for value in values]
    # The cast is a no-op on JSONB, so a GIN index still serves @>; plain JSON needs it.
    containments = (
        cast(column, JSONB).op("@>")(cast(literal(json.dumps(doc), String()), JSONB))
        for doc in documents
    )
    postgresql = and_(column.is_not(None), combine(*containments))
    is_list = func.json_type(column) == "array"
    sqlite = and_(column.is_not(None), is_list, combine(*_sqlite_members(column, values)))
    return _PerDialect(default=postgresql, sqlite=sqlite)


def _sqlite_members(column: ColumnElement[Any], values: Sequence[str]) -> list[ColumnElement[bool]]:
    members: list[ColumnElement[bool]] = []
    for value in values:
        elements = func.json_each(column).table_valued("value")
        members.append(select(1).select_from(elements).where(elements.c.value == value).exists())
    return members


def _is_null(column: ColumnElement[Any]) -> ColumnElement[bool]:
    if not is_list_field(column):
        return column.is_(None)
    # A JSON column may hold the JSON value null, which is as empty as SQL NULL.
    json_null = _PerDialect(
        default=func.jsonb_typeof(cast(column, JSONB)) == "null",
        sqlite=func.json_type(column) == "null",
    )
    return or_(column.is_(None), json_null)


# --- where -------------------------------------------------------------------------------------


def _where_condition(part: str, fields: Fields) -> ColumnElement[bool]:
    name, colon, value = part.partition(":")
    if not colon:
        raise QueryError(f"where condition {part!r} is not of the form field:value")
    name = name.strip()
    column = _field(fields, name)
    if value == "":
        return _is_null(column)
    if "*" in value:
        _require_text(column, name, "a '*' wildcard")
        return _matches(column, _star_pattern(value), case_sensitive=True)
    if is_list_field(column):
        return _json_contains(column, [value], every=True)
    equal: ColumnElement[bool] = column == coerce(column, name, value)
    return equal


# --- query: tokens -----------------------------------------------------------------------------

_Kind = Literal["(", ")", ",", "word", "quoted", "end"]
# An unquoted value runs to the next ( ) or , and loses its trailing whitespace.
_WORD = re.compile(r"[^(),]*[^(),\s]")


@dataclass(frozen=True)
class _Token:
    kind: _Kind
    text: str
    start: int
    end: int

    def describe(self) -> str:
        return "the end of the query" if self.kind == "end" else repr(self.text)

    @property
    def where(self) -> str:
        return f"at character {self.start + 1}"


def _tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    position = 0
    while True:
        while position < len(text) and text[position].isspace():
            position += 1
        if position == len(text):
            tokens.append(_Token("end", "", position, position))
            return tokens
        tokens.append(_read_token(text, position))
        position = tokens[-1].end


def _read_token(text: str, start: int) -> _Token:
    character = text[start]
    if character in "(),":
        kind: _Kind = "(" if character == "(" else ")" if character == ")" else ","
        return _Token(kind, character, start, start + 1)
    if character in "'\"":
        close = text.find(character, start + 1)
        if close == -1:
            raise QueryError(f"unterminated {character} quote at character {start + 1}")
        return _Token("quoted", text[start + 1 : close], start, close + 1)
    word = _WORD.match(text, start)
    assert word is not None  # the character is neither space nor punctuation
    return _Token("word", word.group(), start, word.end())


# --- query: syntax tree and parser -------------------------------------------------------------


@dataclass(frozen=True)
class _Value:
    text: str
    position: int = field(compare=False)


@dataclass(frozen=True)
class _Call:
    operator: str
    arguments: tuple[_Call | _Value, ...]
    position: int = field(compare=False)


class _Parser:
    """expression := WORD '(' [argument (',' argument)*] ')'; argument := expression | value."""

    def __init__(self, text: str) -> None:
        self._tokens = _tokenize(text)
        self._index = 0

    def parse(self) -> _Call:
        call = self._call(depth=1)
        token = self._tokens[self._index]
        if token.kind == ")":
            raise QueryError(f"unbalanced parentheses: unexpected ')' {token.where}")
        if token.kind != "end":
            raise QueryError(
                f"unexpected {token.describe()} {token.where} after the end of the expression; "
                "combine conditions with and(...) or or(...)"
            )
        return call

    def _take(self) -> _Token:
        token = self._tokens[self._index]
        self._index += 1
        return token

    def _call(self, depth: int) -> _Call:
        if depth > MAX_DEPTH:
            raise QueryError(f"query nests deeper than {MAX_DEPTH} levels")
        name = self._take()
        if name.kind != "word":
            raise QueryError(
                f"expected an operator such as eq( {name.where}, got {name.describe()}"
            )
        opening = self._take()
        if opening.kind != "(":
            raise QueryError(
                f"expected '(' after {name.text!r} {opening.where}, got {opening.describe()}"
            )
        arguments: list[_Call | _Value] = []
        if self._tokens[self._index].kind == ")":
            self._index += 1
            return _Call(name.text, (), name.start + 1)
        while True:
            arguments.append(self._argument(name, depth))
            separator = self._take()
            if separator.kind == ")":
                return _Call(name.text, tuple(arguments), name.start + 1)
            self._expect_comma(name, separator)

    def _argument(self, name: _Token, depth: int) -> _Call | _Value:
        token = self._tokens[self._index]
        if token.kind == "word" and self._tokens[self._index + 1].kind == "(":
            return self._call(depth + 1)
        if token.kind in ("word", "quoted"):
            self._index += 1
            return _Value(token.text, token.start + 1)
        if token.kind == "end":
            raise _missing_parenthesis(name)
        raise QueryError(
            f"missing value {token.where} in {name.text}(): got {token.describe()}; "
            "write '' for an empty value"
        )

    @staticmethod
    def _expect_comma(name: _Token, separator: _Token) -> None:
        if separator.kind == "end":
            raise _missing_parenthesis(name)
        if separator.kind != ",":
            raise QueryError(
                f"expected ',' or ')' {separator.where} in {name.text}(), got "
                f"{separator.describe()}; quote values that contain ',', '(' or ')'"
            )


def _missing_parenthesis(name: _Token) -> QueryError:
    return QueryError(
        f"unbalanced parentheses: missing ')' to close {name.text}( opened {name.where}"
    )


# --- query: compiler ---------------------------------------------------------------------------

_Handler = Callable[[_Call, Fields], ColumnElement[bool]]


def _compile(call: _Call, fields: Fields) -> ColumnElement[bool]:
    handler = _HANDLERS.get(call.operator)
    if handler is None:
        raise QueryError(
            f"unknown operator {call.operator!r} at character {call.position}; "
            f"valid operators: {', '.join(sorted(_HANDLERS))}"
        )
    return handler(call, fields)


def _expressions(call: _Call) -> list[_Call]:
    for argument in call.arguments:
        if isinstance(argument, _Value):
            raise QueryError(
                f"{call.operator}() takes expressions such as eq(field,value), "
                f"not the value {argument.text!r} at character {argument.position}"
            )
    if not call.arguments:
        raise QueryError(f"{call.operator}() needs at least one expression")
    return [argument for argument in call.arguments if isinstance(argument, _Call)]


def _and_or(call: _Call, fields: Fields) -> ColumnElement[bool]:
    combine = and_ if call.operator == "and" else or_
    return combine(*(_compile(expression, fields) for expression in _expressions(call)))


def _not(call: _Call, fields: Fields) -> ColumnElement[bool]:
    expressions = _expressions(call)
    if len(expressions) != 1:
        raise QueryError(f"not() takes exactly 1 expression, got {len(expressions)}")
    return not_(_compile(expressions[0], fields))


def _values(call: _Call, count: int, *, variadic: bool = False) -> list[str]:
    for argument in call.arguments:
        if isinstance(argument, _Call):
            raise QueryError(
                f"{call.operator}() takes a field and plain values, not the expression "
                f"{argument.operator}() at character {argument.position}; "
                "quote values that contain ',', '(' or ')'"
            )
    given = len(call.arguments)
    if given < count or (given > count and not variadic):
        expected = f"at least {count}" if variadic else str(count)
        signature = ", ".join(["field", "value"][:count]) + (", ..." if variadic else "")
        plural = "s" if count > 1 else ""
        raise QueryError(
            f"{call.operator}() takes {expected} argument{plural} ({signature}), got {given}"
        )
    return [argument.text for argument in call.arguments if isinstance(argument, _Value)]


def _compare(
    compare: Callable[[Any, Any], Any], call: _Call, fields: Fields
) -> ColumnElement[bool]:
    name, value = _values(call, 2)
    column = _field(fields, name)
    _require_scalar(column, name, f"{call.operator}()")
    if call.operator not in ("eq", "ne") and isinstance(_base_type(column), Boolean):
        raise QueryError(
            f"{call.operator}() cannot order the boolean field {name!r}; use eq() or ne()"
        )
    condition: ColumnElement[bool] = compare(column, coerce(column, name, value))
    return condition


def _like(call: _Call, fields: Fields, *, case_sensitive: bool) -> ColumnElement[bool]:
    name, pattern = _values(call, 2)
    column = _field(fields, name)
    _require_text(column, name, f"{call.operator}()")
    return _matches(column, _like_pattern(pattern), case_sensitive=case_sensitive)


def _contains(call: _Call, fields: Fields, *, negate: bool) -> ColumnElement[bool]:
    name, *values = _values(call, 2, variadic=True)
    column = _field(fields, name)
    if not is_list_field(column):
        raise QueryError(f"{call.operator}() needs a list field, and {name!r} is not one")
    if not negate:
        return _json_contains(column, values, every=True)
    # The containment test is never NULL, so a missing list passes not_contains().
    return not_(_json_contains(column, values, every=False))


def _null(call: _Call, fields: Fields) -> ColumnElement[bool]:
    (name,) = _values(call, 1)
    return _is_null(_field(fields, name))


_COMPARISONS = {
    "eq": operator.eq,
    "ne": operator.ne,
    "lt": operator.lt,
    "le": operator.le,
    "gt": operator.gt,
    "ge": operator.ge,
}
_HANDLERS: dict[str, _Handler] = {
    "and": _and_or,
    "or": _and_or,
    "not": _not,
    **{name: partial(_compare, compare) for name, compare in _COMPARISONS.items()},
    "like": partial(_like, case_sensitive=True),
    "ilike": partial(_like, case_sensitive=False),
    "contains": partial(_contains, negate=False),
    "not_contains": partial(_contains, negate=True),
    "null": _null,
}


# --- for other query languages (the job search DSL) -------------------------------------------


def regex_match(column: ColumnElement[Any], name: str, regex: str) -> ColumnElement[bool]:
    """A whole-value regular expression made only of literal characters, `.` and `.*`, as a
    case-sensitive LIKE: SQLite has no regular expressions, so richer ones are refused."""
    _require_text(column, name, "=~")
    parts: list[str | _Wildcard] = []
    index = 0
    while index < len(regex):
        character = regex[index]
        if regex.startswith(".*", index):
            parts.append(_Wildcard.ANY)
            index += 2
            continue
        if character == "\\" and index + 1 < len(regex):
            parts.append(regex[index + 1])
            index += 2
            continue
        if character in "^$.+?*()[]{}|\\":
            if character == ".":
                parts.append(_Wildcard.ONE)
                index += 1
                continue
            raise QueryError(
                f"regular expression {regex!r}: only literal characters, '.' and '.*' are supported"
            )
        parts.append(character)
        index += 1
    return _matches(column, tuple(parts), case_sensitive=True)


def list_contains_any(column: ColumnElement[Any], values: Sequence[str]) -> ColumnElement[bool]:
    """The JSON list `column` holds at least one of `values` (never NULL)."""
    if not is_list_field(column):
        raise QueryError("'in' on a list needs a list field")
    return _json_contains(column, values, every=False)
