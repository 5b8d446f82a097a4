"""Snapshots: the nested, JSON-ready dict of a record that the Python evaluator reads."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from django.db import models

from flowcrm.core.conditions.fields import fields_for
from flowcrm.core.conditions.tree import FieldInfo
from flowcrm.core.errors import ValidationFailed


def snapshot(
    record: models.Model,
    *,
    record_type: str,
    paths: Iterable[str] | None = None,
    fields: Mapping[str, FieldInfo] | None = None,
) -> dict[str, Any]:
    """``{record_type: {...}}`` with the values at ``paths`` (default: every registry path).

    Relations become nested dicts (``None`` when the foreign key is empty), custom fields sit
    under ``custom`` (absent keys stay absent), tags are a list of names; decimals become
    numbers, dates and datetimes ISO strings. Reads related rows through the instance, so use
    :func:`related_paths` with ``select_related`` when snapshotting many records.
    Raises ValidationFailed for a path not in the registry.
    """
    registry = fields if fields is not None else fields_for(record_type)
    wanted = list(registry) if paths is None else list(paths)
    unknown = [path for path in wanted if path not in registry]
    if unknown:
        raise ValidationFailed({"paths": f"unknown field {unknown[0]!r}"})
    data: dict[str, Any] = {}
    for path in wanted:
        _fill(data, record, registry[path])
    return {record_type: data}


def related_paths(record_type: str, paths: Iterable[str]) -> list[str]:
    """The ``select_related`` arguments that let :func:`snapshot` read ``paths`` query-free."""
    registry = fields_for(record_type)
    return sorted(
        {
            "__".join(registry[path].relations)
            for path in paths
            if path in registry and registry[path].relations
        }
    )


def _fill(data: dict[str, Any], instance: models.Model, info: FieldInfo) -> None:
    node, current = data, instance
    for hop in info.relations:
        if hop in node and node[hop] is None:
            return
        related = getattr(current, hop)
        if related is None:
            node[hop] = None
            return
        node = node.setdefault(hop, {})
        current = related
    if info.is_tags:
        manager = current.tags  # type: ignore[attr-defined]  # only records with tags have this path
        node["tags"] = sorted(tag.name for tag in manager.all())
    elif info.custom_key is not None:
        custom = node.setdefault("custom", {})
        stored = getattr(current, "custom", None) or {}
        if info.custom_key in stored:
            custom[info.custom_key] = stored[info.custom_key]
    else:
        assert info.column is not None
        node[info.column] = json_ready(getattr(current, info.column))


def json_ready(value: Any) -> Any:
    """A column value as the evaluator and JSON storage expect it."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return value
