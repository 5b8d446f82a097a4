"""Database expressions the ``Q`` compiler needs, written for SQLite and PostgreSQL alike.

Each one yields exactly what the Python evaluator computes: a value of the wrong JSON type is
NULL (missing), ASCII-only lower-casing, and membership tests that are never NULL.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import BooleanField, F, Field, FloatField, Func, TextField
from django.db.models.sql.compiler import SQLCompiler
from django.db.utils import NotSupportedError

_UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_LOWER = "abcdefghijklmnopqrstuvwxyz"
SqlAndParams = tuple[str, tuple[Any, ...]]


class AsciiLower(Func):
    """Lower-case ASCII letters only (SQLite's ``lower`` does exactly that without ICU)."""

    function = "lower"
    output_field = TextField()

    def as_postgresql(
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra: Any
    ) -> SqlAndParams:
        sql, params = compiler.compile(self.source_expressions[0])
        return f"translate({sql}, '{_UPPER}', '{_LOWER}')", tuple(params)


def _sqlite_path(key: str) -> str:
    return f'$."{key}"'


class JsonScalar(Func):
    """The value under ``key`` of a JSON object column when it has the given JSON type, else NULL.

    ``kind`` is ``text`` (JSON strings), ``number`` (as a float) or ``boolean``.
    """

    _PG_TYPES = {"text": "string", "number": "number", "boolean": "boolean"}
    _PG_CASTS = {"text": "", "number": "::double precision", "boolean": "::boolean"}
    _SQLITE_TYPES = {
        "text": "('text')",
        "number": "('integer', 'real')",
        "boolean": "('true', 'false')",
    }

    def __init__(self, column: str, key: str, kind: str) -> None:
        outputs: dict[str, Field[Any, Any]] = {
            "text": TextField(),
            "number": FloatField(),
            "boolean": BooleanField(),
        }
        output = outputs[kind]
        super().__init__(F(column), output_field=output)
        self.key = key
        self.kind = kind

    def as_sql(  # type: ignore[override]  # vendor methods below do the work
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra: Any
    ) -> SqlAndParams:
        raise NotSupportedError("conditions on custom fields need SQLite or PostgreSQL")

    def as_postgresql(
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra: Any
    ) -> SqlAndParams:
        column, params = compiler.compile(self.source_expressions[0])
        json_type = self._PG_TYPES[self.kind]
        cast = self._PG_CASTS[self.kind]
        sql = (
            f"(CASE WHEN jsonb_typeof({column} -> %s) = '{json_type}' "
            f"THEN ({column} ->> %s){cast} END)"
        )
        return sql, (*params, self.key, *params, self.key)

    def as_sqlite(
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra: Any
    ) -> SqlAndParams:
        column, params = compiler.compile(self.source_expressions[0])
        types = self._SQLITE_TYPES[self.kind]
        path = _sqlite_path(self.key)
        sql = f"(CASE WHEN json_type({column}, %s) IN {types} THEN json_extract({column}, %s) END)"
        return sql, (*params, path, *params, path)


class JsonArrayHasAny(Func):
    """True when the JSON array under ``key`` has a string item (ASCII-lower-cased) in ``values``.

    ``values=None`` means any non-empty string item. Never NULL: a missing key or a non-array
    value is false.
    """

    output_field = BooleanField()

    def __init__(self, column: str, key: str, values: Sequence[str] | None) -> None:
        super().__init__(F(column), output_field=BooleanField())
        self.key = key
        self.values = list(values) if values is not None else None

    def as_sql(  # type: ignore[override]  # vendor methods below do the work
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra: Any
    ) -> SqlAndParams:
        raise NotSupportedError("conditions on custom fields need SQLite or PostgreSQL")

    def _filter(self, item_sql: str) -> tuple[str, list[Any]]:
        if self.values is None:
            return f"{item_sql} <> ''", []
        placeholders = ", ".join(["%s"] * len(self.values))
        return f"{item_sql} IN ({placeholders})", list(self.values)

    def as_postgresql(
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra: Any
    ) -> SqlAndParams:
        column, params = compiler.compile(self.source_expressions[0])
        item = f"translate(item.value #>> '{{}}', '{_UPPER}', '{_LOWER}')"
        condition, values = self._filter(item)
        sql = (
            # only placeholders and fixed SQL are interpolated; values travel as parameters
            f"(CASE WHEN jsonb_typeof({column} -> %s) = 'array' THEN EXISTS ("  # noqa: S608
            f"SELECT 1 FROM jsonb_array_elements({column} -> %s) AS item(value) "
            f"WHERE jsonb_typeof(item.value) = 'string' AND {condition}) ELSE false END)"
        )
        return sql, (*params, self.key, *params, self.key, *values)

    def as_sqlite(
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra: Any
    ) -> SqlAndParams:
        column, params = compiler.compile(self.source_expressions[0])
        condition, values = self._filter("lower(item.value)")
        path = _sqlite_path(self.key)
        sql = (
            f"(CASE WHEN json_type({column}, %s) = 'array' THEN EXISTS ("  # noqa: S608
            f"SELECT 1 FROM json_each({column}, %s) AS item "
            f"WHERE item.type = 'text' AND {condition}) ELSE 0 END)"
        )
        return sql, (*params, path, *params, path, *values)
