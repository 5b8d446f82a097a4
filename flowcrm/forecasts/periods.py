"""Calendar periods (month, quarter) as the forecast uses them."""

from __future__ import annotations

import datetime as dt


def period_start(day: dt.date, kind: str) -> dt.date:
    if kind == "quarter":
        return dt.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
    return dt.date(day.year, day.month, 1)


def next_period(start: dt.date, kind: str) -> dt.date:
    months = 3 if kind == "quarter" else 1
    month = start.month - 1 + months
    return dt.date(start.year + month // 12, month % 12 + 1, 1)


def previous_period(start: dt.date, kind: str) -> dt.date:
    months = 3 if kind == "quarter" else 1
    month = start.month - 1 - months
    return dt.date(start.year + month // 12, month % 12 + 1, 1)


def period_label(start: dt.date, kind: str) -> str:
    if kind == "quarter":
        return f"{start.year}-Q{(start.month - 1) // 3 + 1}"
    return f"{start.year}-{start.month:02d}"


def parse_period(label: str) -> tuple[dt.date, str]:
    """``2026-11`` → (2026-11-01, month); ``2026-Q4`` → (2026-10-01, quarter). ValueError if bad."""
    year_text, _, rest = label.partition("-")
    year = int(year_text)
    if rest.upper().startswith("Q"):
        quarter = int(rest[1:])
        if not 1 <= quarter <= 4:
            raise ValueError(f"bad quarter in {label!r}")
        return dt.date(year, 3 * (quarter - 1) + 1, 1), "quarter"
    month = int(rest)
    return dt.date(year, month, 1), "month"


def month_starts(first: dt.date, last: dt.date) -> list[dt.date]:
    """Month starts from ``first``'s month to ``last``'s month inclusive."""
    out, current = [], period_start(first, "month")
    while current <= last:
        out.append(current)
        current = next_period(current, "month")
    return out
