"""CSV of a report's sections (numbers as numbers; text cells made inert for spreadsheets)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

from flowcrm.imports.exports import escape_cell
from flowcrm.reports.sections import Section, format_cell


def sections_csv(sections: Iterable[Section]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for index, section in enumerate(sections):
        if index:
            writer.writerow([])
        writer.writerow([escape_cell(section.title)])
        writer.writerow([escape_cell(c) for c in section.columns])
        for row in section.rows:
            writer.writerow(
                [
                    cell
                    if isinstance(cell, int | float) and not isinstance(cell, bool)
                    else escape_cell(format_cell(cell))
                    for cell in row
                ]
            )
    return buffer.getvalue()
