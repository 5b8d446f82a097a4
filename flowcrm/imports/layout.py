"""A model's table as the import writes it: columns, defaults, and values in database form."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.db import connection, models

_EMPTY: tuple[object, ...] = (None, "", [], {})
_SKIPPED_IN_CHANGES = frozenset({"id", "created_at", "updated_at", "merged_into_id"})


def _json_ready(value: Any) -> Any:
    kind = type(value)
    if kind is str or kind is int or kind is bool or value is None:
        return value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _json_ready(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_ready(v) for v in value]
    return value


def _json_column(value: Any) -> str:
    if not value:
        return "[]" if type(value) is list else "{}" if type(value) is dict else json.dumps(value)
    return json.dumps(value)


def _decimal_adapter(digits: int | None, places: int | None) -> Callable[[Any], Any]:
    def adapt(value: Any) -> Any:
        if value is None:
            return None
        return connection.ops.adapt_decimalfield_value(Decimal(value), digits, places)

    return adapt


class _DatetimeAdapter:
    """The backend's datetime adapter, remembering the last value (a chunk shares one ``now``)."""

    def __init__(self, adapt: Callable[[Any], Any]) -> None:
        self.adapt = adapt
        self.last: tuple[Any, Any] = (object(), None)

    def __call__(self, value: Any) -> Any:
        if value is self.last[0]:
            return self.last[1]
        adapted = self.adapt(value)
        self.last = (value, adapted)
        return adapted


class TableLayout:
    """Column order, defaults and database adapters of ``model``'s concrete fields."""

    def __init__(self, model: type[models.Model]) -> None:
        self.model = model
        fields = list(model._meta.concrete_fields)
        self.fields = fields
        self.attnames = [f.attname for f in fields]
        self.columns: list[str] = [str(f.column) for f in fields]
        self.column_of: dict[str, str] = {f.attname: str(f.column) for f in fields}
        self.event_name = {f.attname: f.name for f in fields}
        ops = connection.ops
        self.adapters: dict[str, Callable[[Any], Any]] = {}
        for f in fields:
            if isinstance(f, models.JSONField):
                self.adapters[f.attname] = _json_column
            elif isinstance(f, models.DateTimeField):
                self.adapters[f.attname] = _DatetimeAdapter(ops.adapt_datetimefield_value)
            elif isinstance(f, models.DateField):
                self.adapters[f.attname] = ops.adapt_datefield_value
            elif isinstance(f, models.DecimalField):
                self.adapters[f.attname] = _decimal_adapter(f.max_digits, f.decimal_places)
        self._static_defaults = {
            f.attname: f.get_default()
            for f in fields
            if not callable(getattr(f, "default", None)) or f.attname in ("custom",)
        }

        self._change_names = [
            (f.attname, f.name) for f in fields if f.attname not in _SKIPPED_IN_CHANGES
        ]
        self._template: tuple[dt.datetime, dict[str, Any]] | None = None

    def defaults(self, now: dt.datetime) -> dict[str, Any]:
        """A fresh state for a new record: every field's default, timestamps at ``now``.

        JSON defaults are shared between the states of one chunk; callers replace them, never
        change them in place.
        """
        if self._template is None or self._template[0] is not now:
            self._template = (now, self._build_defaults(now))
        return dict(self._template[1])

    def _build_defaults(self, now: dt.datetime) -> dict[str, Any]:
        state: dict[str, Any] = {}
        for f in self.fields:
            if f.attname == "id":
                state["id"] = None
            elif isinstance(f, models.DateTimeField) and callable(f.default):
                state[f.attname] = now
            elif isinstance(f, models.JSONField):
                state[f.attname] = f.get_default()
            else:
                state[f.attname] = self._static_defaults.get(f.attname, f.get_default())
        return state

    def db_row(self, state: dict[str, Any]) -> list[Any]:
        adapters = self.adapters
        return [adapters[a](state[a]) if a in adapters else state[a] for a in self.attnames]

    def update_row(self, state: dict[str, Any], attnames: list[str]) -> list[Any]:
        adapters = self.adapters
        row = [adapters[a](state[a]) if a in adapters else state[a] for a in attnames]
        row.append(state["id"])
        return row

    def created_changes(self, state: dict[str, Any]) -> dict[str, dict[str, Any]]:
        """Every non-empty field from ``None`` (the ``*.created`` event contract)."""
        changes = {}
        for attname, name in self._change_names:
            value = state[attname]
            if value is None or value == "" or value == {} or value == []:
                continue
            kind = type(value)
            changes[name] = {
                "before": None,
                "after": value
                if kind is str or kind is int or kind is bool
                else _json_ready(value),
            }
        return changes

    def changes(
        self, before: dict[str, Any], after: dict[str, Any], attnames: list[str]
    ) -> dict[str, dict[str, Any]]:
        result: dict[str, dict[str, Any]] = {}
        for a in attnames:
            if a in _SKIPPED_IN_CHANGES:
                continue
            old, new = _json_ready(before.get(a)), _json_ready(after.get(a))
            if old != new:
                result[self.event_name[a]] = {"before": old, "after": new}
        return result
