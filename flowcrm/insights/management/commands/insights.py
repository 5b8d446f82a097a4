"""``flowcrm insights xes FILE [--json] [--top N]``: analyse an XES file without a server.

Reads the file (plain or gzipped) straight into memory columns: no database rows are written.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from flowcrm.insights.process.analysis import directly_follows, sojourn_times, variants
from flowcrm.insights.xes import XesError, xes_to_log


def xes_summary(path: Path, *, top: int | None = None) -> dict[str, Any]:
    """The CLI's JSON document for an XES file (see the module docstring)."""
    with path.open("rb") as stream:
        log = xes_to_log(stream)
    summary = variants(log, top=top or max(log.case_count, 1))
    return {
        "dfg": [
            {
                "source": edge.source,
                "target": edge.target,
                "count": edge.stats.count,
                "mean_seconds": edge.stats.mean_seconds,
                "median_seconds": edge.stats.median_seconds,
            }
            for edge in directly_follows(log)
        ],
        "variants": [
            {"activities": list(variant.activities), "count": variant.count}
            for variant in summary.top
        ],
        "sojourn": {
            activity: {"mean_seconds": s.mean_seconds, "median_seconds": s.median_seconds}
            for activity, s in sojourn_times(log).items()
        },
        "cases": log.case_count,
        "events": log.event_count,
    }


class Command(BaseCommand):
    requires_system_checks: list[str] = []  # pure file analysis: no database needed
    help = "Process analytics from the command line: 'insights xes FILE --json'."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        xes = sub.add_parser("xes", help="Analyse an XES file (plain or .gz).")
        xes.add_argument("file", type=Path)
        xes.add_argument("--json", action="store_true", help="Print the analysis as JSON.")
        xes.add_argument("--top", type=int, default=None, help="Only the N most frequent variants.")

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(f"{path}: no such file")
        try:
            result = xes_summary(path, top=options["top"])
        except XesError as error:
            raise CommandError(f"{path}: {error}") from None
        if options["json"]:
            self.stdout.write(json.dumps(result, ensure_ascii=False))
            return
        self.stdout.write(f"{result['cases']} cases, {result['events']} events")
        for edge in result["dfg"]:
            self.stdout.write(
                f"{edge['source']} -> {edge['target']}: {edge['count']} "
                f"(median {edge['median_seconds'] / 86400:.1f} days)"
            )
        for variant in result["variants"][:10]:
            self.stdout.write(f"{variant['count']:>7}  {' > '.join(variant['activities'])}")
