"""DCI's job search language (`dcictl job-search --query`), compiled to SQL.

    ((name='vanilla') and (topic.name='OCP-4.19')) or (tags in ['nightly', 'ga'])
    (components.type='ocp') and (components.version=~'4.19.*')

A condition is `field op value` with `=, !=, <, <=, >, >=, =~` (a whole-value regular
expression), or `field in [...]` / `field not_in [...]`; conditions combine with `and` (binding
tighter) and `or`, and parentheses. A field is a column of the searched table or
`<relation>.<column>` of a related table. Conditions on the same relation that are combined
together test the same related row, as DCI's nested queries do: `(components.type='ocp') and
(components.version='4.19')` finds jobs with one component that is both.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, not_, or_

from aerodrome.api.query import (
    MAX_DEPTH,
    MAX_LENGTH,
    QueryError,
    coerce,
    is_list_field,
    list_contains_any,
    regex_match,
)

Fields = Mapping[str, ColumnElement[Any]]


@dataclass(frozen=True)
class Related:
    """A relation that `<name>.<field>` conditions reach: its fields, and how a condition on
    them becomes a condition on the searched row (an EXISTS, usually)."""

    fields: Fields
    wrap: Callable[[ColumnElement[bool]], ColumnElement[bool]]


@dataclass(frozen=True)
class SearchFields:
    fields: Fields
    related: Mapping[str, Related]

    def describe(self) -> str:
        nested = [f"{name}.<field>" for name in sorted(self.related)]
        return ", ".join([*sorted(self.fields), *nested])


_TOKEN = re.compile(
    r"""\s*(?:
        (?P<open>\() | (?P<close>\)) | (?P<lopen>\[) | (?P<lclose>\]) | (?P<comma>,)
      | (?P<op>=~|!=|<=|>=|=|<|>)
      | '(?P<single>(?:[^'\\]|\\.)*)' | "(?P<double>(?:[^"\\]|\\.)*)"
      | (?P<word>[A-Za-z0-9_.:+\-]+)
    )""",
    re.VERBOSE,
)
_COMPARE: dict[str, Callable[[Any, Any], Any]] = {
    "=": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


@dataclass(frozen=True)
class _Token:
    kind: str
    text: str
    position: int


def _tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    position = 0
    while position < len(text):
        if text[position:].strip() == "":
            break
        match = _TOKEN.match(text, position)
        if match is None or match.lastgroup is None:
            raise QueryError(f"unexpected character at position {position} of the query")
        kind = match.lastgroup
        value, start = match.group(kind), match.start(kind)
        if kind in ("single", "double"):
            kind, value = "string", re.sub(r"\\(.)", r"\1", value)
        tokens.append(_Token(kind, value, start))
        position = match.end()
    return tokens


@dataclass(frozen=True)
class _Part:
    """A compiled piece; `relation` is set while it is still a condition on related rows."""

    relation: str | None
    condition: ColumnElement[bool]


class _Parser:
    def __init__(self, text: str, fields: SearchFields) -> None:
        if len(text) > MAX_LENGTH:
            raise QueryError(f"query longer than {MAX_LENGTH} characters")
        self.tokens = _tokenize(text)
        self.index = 0
        self.fields = fields

    def parse(self) -> ColumnElement[bool]:
        if not self.tokens:
            raise QueryError("the query is empty")
        part = self._or(0)
        if self.index < len(self.tokens):
            token = self.tokens[self.index]
            raise QueryError(f"unexpected {token.text!r} at position {token.position}")
        return self._finish(part)

    def _peek(self) -> _Token | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def _take(self, *kinds: str) -> _Token:
        token = self._peek()
        if token is None:
            raise QueryError("the query ends too early")
        if kinds and token.kind not in kinds:
            raise QueryError(f"unexpected {token.text!r} at position {token.position}")
        self.index += 1
        return token

    def _keyword(self, word: str) -> bool:
        token = self._peek()
        if token is not None and token.kind == "word" and token.text.lower() == word:
            self.index += 1
            return True
        return False

    def _or(self, depth: int) -> _Part:
        parts = [self._and(depth)]
        while self._keyword("or"):
            parts.append(self._and(depth))
        return self._combine(parts, or_)

    def _and(self, depth: int) -> _Part:
        parts = [self._term(depth)]
        while self._keyword("and"):
            parts.append(self._term(depth))
        return self._combine(parts, and_)

    def _term(self, depth: int) -> _Part:
        if depth > MAX_DEPTH:
            raise QueryError(f"query nested deeper than {MAX_DEPTH} levels")
        token = self._peek()
        if token is not None and token.kind == "open":
            self.index += 1
            part = self._or(depth + 1)
            self._take("close")
            return part
        return self._condition()

    def _condition(self) -> _Part:
        name = self._take("word").text
        relation, column = self._field(name)
        if self._keyword("in"):
            condition = self._membership(column, name)
        elif self._keyword("not_in"):
            condition = not_(self._membership(column, name))
        else:
            op = self._take("op").text
            value = self._take("string", "word").text
            condition = self._compare(column, name, op, value)
        return _Part(relation, condition)

    def _field(self, name: str) -> tuple[str | None, ColumnElement[Any]]:
        prefix, dot, rest = name.partition(".")
        if dot and prefix in self.fields.related:
            found = self.fields.related[prefix].fields.get(rest)
            if found is not None:
                return prefix, found
        elif not dot and name in self.fields.fields:
            return None, self.fields.fields[name]
        raise QueryError(f"unknown field {name!r}; valid fields: {self.fields.describe()}")

    def _membership(self, column: ColumnElement[Any], name: str) -> ColumnElement[bool]:
        self._take("lopen")
        values = [self._take("string", "word").text]
        while self._peek() is not None and self._take("comma", "lclose").kind == "comma":
            values.append(self._take("string", "word").text)
        if self.tokens[self.index - 1].kind != "lclose":
            raise QueryError("a list of values must end with ']'")
        if is_list_field(column):
            return list_contains_any(column, values)
        return column.in_([coerce(column, name, value) for value in values])

    @staticmethod
    def _compare(column: ColumnElement[Any], name: str, op: str, value: str) -> ColumnElement[bool]:
        if is_list_field(column):
            if op not in ("=", "!="):
                raise QueryError(f"{op} cannot be used on the list field {name!r}")
            # On a list, `tags='x'` means "x is one of the tags", as in DCI.
            holds = list_contains_any(column, [value])
            return holds if op == "=" else not_(holds)
        if op == "=~":
            return regex_match(column, name, value)
        condition: ColumnElement[bool] = _COMPARE[op](column, coerce(column, name, value))
        return condition

    def _combine(
        self, parts: Sequence[_Part], combine: Callable[..., ColumnElement[bool]]
    ) -> _Part:
        if len(parts) == 1:
            return parts[0]
        relations = {part.relation for part in parts}
        if len(relations) == 1 and None not in relations:
            return _Part(parts[0].relation, combine(*(p.condition for p in parts)))
        return _Part(None, combine(*(self._finish(p) for p in parts)))

    def _finish(self, part: _Part) -> ColumnElement[bool]:
        if part.relation is None:
            return part.condition
        return self.fields.related[part.relation].wrap(part.condition)


def compile_search(text: str, fields: SearchFields) -> ColumnElement[bool]:
    """The SQL condition of a search query (QueryError telling what to fix)."""
    return _Parser(text, fields).parse()
