"""Running a report spec: one aggregate query in the database, never rows loaded into Python.

The record type's visible rows (``core.permissions``) are filtered by the condition tree
(compiled to ``Q``), grouped by a field or a date bucket, and aggregated. A median needs a
second query: window functions number each group's values and only the middle one or two rows
per group come back.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import models
from django.db.models import Avg, Count, F, FloatField, Max, Min, Q, Sum, Window
from django.db.models.fields.json import KT
from django.db.models.functions import (
    Cast,
    RowNumber,
    TruncDay,
    TruncMonth,
    TruncQuarter,
    TruncWeek,
    TruncYear,
)

from flowcrm.accounts.models import User
from flowcrm.core.conditions import FieldInfo, compile_q, model_for, parse_condition
from flowcrm.core.permissions import visible_q
from flowcrm.reports.spec import Measure, ReportSpec, field_info

OWNER_FIELD = {"task": "assignee"}
TRUNCATE = {
    "day": TruncDay,
    "week": TruncWeek,
    "month": TruncMonth,
    "quarter": TruncQuarter,
    "year": TruncYear,
}
AGGREGATES = {"sum": Sum, "avg": Avg, "min": Min, "max": Max}


@dataclass(frozen=True)
class ReportRow:
    group: Any
    values: dict[str, float | int | None]


@dataclass(frozen=True)
class ReportResult:
    spec: ReportSpec
    group_label: str
    measure_labels: dict[str, str]
    rows: list[ReportRow]


def orm_path(info: FieldInfo) -> str:
    parts = [*info.relations]
    if info.custom_key is not None:
        parts += ["custom", info.custom_key]
    elif info.column is not None:
        parts.append(info.column)
    return "__".join(parts)


def _value_expression(info: FieldInfo) -> Any:
    if info.custom_key is not None:
        return Cast(KT(orm_path(info)), FloatField())
    return F(orm_path(info))


def base_queryset(
    spec: ReportSpec, user: User, fields: dict[str, FieldInfo] | None = None
) -> models.QuerySet[Any]:
    model = model_for(spec.record_type)
    queryset = model._default_manager.filter(
        visible_q(user, OWNER_FIELD.get(spec.record_type, "owner"))
    )
    if hasattr(model, "merged_into"):
        queryset = queryset.filter(merged_into__isnull=True)
    if spec.condition is not None:
        condition = parse_condition(
            spec.condition, record_type=spec.record_type, path="condition", fields=fields
        )
        queryset = queryset.filter(
            compile_q(condition, record_type=spec.record_type, fields=fields)
        )
    return queryset


def _group_expression(spec: ReportSpec, fields: dict[str, FieldInfo]) -> Any:
    assert spec.group_by is not None
    info = field_info(fields, spec.record_type, spec.group_by.field)
    if spec.group_by.bucket:
        return TRUNCATE[spec.group_by.bucket](orm_path(info), tzinfo=dt.UTC)
    if info.custom_key is not None:
        return KT(orm_path(info))
    return F(orm_path(info))


def _aggregate(measure: Measure, fields: dict[str, FieldInfo], record_type: str) -> Any:
    if measure.op == "count":
        return Count("pk")
    assert measure.field is not None
    return AGGREGATES[measure.op](_value_expression(field_info(fields, record_type, measure.field)))


def run_report(spec: ReportSpec, fields: dict[str, FieldInfo], user: User) -> ReportResult:
    """The report's rows: one per group (ordered by group, or by the first measure for a
    funnel/bar of a non-date field), at most ``spec.limit``; one row when not grouped."""
    queryset = base_queryset(spec, user, fields)
    plain = [m for m in spec.measures if m.op != "median"]
    annotations = {m.key: _aggregate(m, fields, spec.record_type) for m in plain}
    medians = [m for m in spec.measures if m.op == "median"]
    rows: list[ReportRow]
    if spec.group_by is None:
        values = queryset.aggregate(**annotations) if annotations else {}
        for measure in medians:
            values[measure.key] = _medians(queryset, measure, fields, spec, None).get(None)
        rows = [ReportRow(group=None, values=_clean(values))]
    else:
        grouped = queryset.annotate(report_group=_group_expression(spec, fields)).values(
            "report_group"
        )
        if annotations:
            grouped = grouped.annotate(**annotations)
        else:
            grouped = grouped.annotate(report_rows=Count("pk"))
        first = spec.measures[0].key
        dated = spec.group_by.bucket is not None
        order = "report_group" if dated or first not in annotations else f"-{first}"
        result = list(grouped.order_by(order)[: spec.limit])
        median_values = {
            m.key: _medians(queryset, m, fields, spec, _group_expression(spec, fields))
            for m in medians
        }
        rows = []
        for item in result:
            values = {key: item.get(key) for key in annotations}
            for key, by_group in median_values.items():
                values[key] = by_group.get(item["report_group"])
            rows.append(ReportRow(group=_group_value(item["report_group"]), values=_clean(values)))
    return ReportResult(
        spec=spec,
        group_label=spec.group_by.field if spec.group_by else "",
        measure_labels={m.key: _measure_label(m) for m in spec.measures},
        rows=rows,
    )


def _medians(
    queryset: models.QuerySet[Any],
    measure: Measure,
    fields: dict[str, FieldInfo],
    spec: ReportSpec,
    group: Any,
) -> dict[Any, float | None]:
    """Median of a measure's field per group, computed with window functions in SQL."""
    assert measure.field is not None
    value = _value_expression(field_info(fields, spec.record_type, measure.field))
    partition = [group] if group is not None else None
    numbered = (
        queryset.annotate(report_value=value)
        .filter(report_value__isnull=False)
        .annotate(
            position=Window(RowNumber(), partition_by=partition, order_by=F("report_value").asc()),
            size=Window(Count("pk"), partition_by=partition),
        )
    )
    if group is not None:
        numbered = numbered.annotate(report_group=group)
    middle = numbered.filter(Q(position=(F("size") + 1) / 2) | Q(position=(F("size") + 2) / 2))
    pairs = (
        middle.values_list("report_group", "report_value")
        if group is not None
        else ((None, number) for number in middle.values_list("report_value", flat=True))
    )
    collected: dict[Any, list[float]] = {}
    for group_value, number in pairs:
        collected.setdefault(group_value, []).append(float(number))
    return {key: sum(vals) / len(vals) for key, vals in collected.items()}


def _measure_label(measure: Measure) -> str:
    if measure.op == "count":
        return "Count"
    return f"{measure.op.capitalize()} of {measure.field}"


def _group_value(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.date()
    return value


def _clean(values: dict[str, Any]) -> dict[str, float | int | None]:
    cleaned: dict[str, float | int | None] = {}
    for key, value in values.items():
        if isinstance(value, Decimal):
            cleaned[key] = float(value)
        elif isinstance(value, dt.timedelta):
            cleaned[key] = value.total_seconds()
        else:
            cleaned[key] = value
    return cleaned
