"""A report as shown and exported: titled sections, each a table with an optional chart."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from flowcrm.reports import charts
from flowcrm.reports.engine import ReportResult


@dataclass
class Section:
    title: str
    columns: list[str]
    rows: list[list[Any]]
    chart: str = "table"
    note: str = ""
    links: list[str] = field(default_factory=list)

    def linked_rows(self) -> list[tuple[str, list[Any]]]:
        """Rows paired with the link of the record behind them ("" when none)."""
        links = self.links + [""] * (len(self.rows) - len(self.links))
        return list(zip(links, self.rows, strict=True))

    def svg(self) -> str:
        if self.chart == "table" or not self.rows or len(self.columns) < 2:
            return ""
        labels = [format_cell(row[0]) for row in self.rows]
        if self.chart == "funnel":
            return charts.funnel_chart(
                self.title, labels, [_num(r[1]) for r in self.rows], self.links or None
            )
        series = [
            charts.Series(name, [_num(row[i + 1]) for row in self.rows])
            for i, name in enumerate(self.columns[1:2])
        ]
        if self.chart == "line":
            return charts.line_chart(self.title, labels, series)
        return charts.bar_chart(self.title, labels, series)


def _num(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def format_cell(value: Any) -> str:
    if value is None:
        return "(none)"
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()[:10]
    if isinstance(value, float):
        return f"{value:,.2f}"
    return str(value)


def from_result(title: str, result: ReportResult) -> Section:
    keys = list(result.measure_labels)
    return Section(
        title=title,
        columns=[result.group_label or "All", *result.measure_labels.values()],
        rows=[
            [row.group if result.group_label else "All", *(row.values.get(k) for k in keys)]
            for row in result.rows
        ],
        chart=result.spec.chart,
    )
