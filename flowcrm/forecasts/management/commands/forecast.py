from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from flowcrm.forecasts.services import backtest, mape
from flowcrm.sales.models import Pipeline


class Command(BaseCommand):
    help = "Forecast tools: 'backtest' replays history and reports each method's accuracy (MAPE)."

    def add_arguments(self, parser: Any) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        replay = sub.add_parser("backtest", help="Replay the last N months and compare methods.")
        replay.add_argument("--pipeline", help="Pipeline name (default: every pipeline).")
        replay.add_argument("--months", type=int, default=12)
        replay.add_argument("--json", action="store_true", help="Print JSON.")

    def handle(self, *args: Any, **options: Any) -> None:
        pipelines = Pipeline.objects.all()
        if options["pipeline"]:
            pipelines = pipelines.filter(name=options["pipeline"])
            if not pipelines.exists():
                raise CommandError(f"No pipeline named {options['pipeline']!r}.")
        report: list[dict[str, Any]] = []
        for pipeline in pipelines:
            results = backtest(pipeline, months=options["months"])
            report.append(
                {
                    "pipeline": pipeline.name,
                    "months": [
                        {"period": r.period_start.isoformat(), "actual": r.actual, **r.values}
                        for r in results
                    ],
                    "mape": mape(results),
                }
            )
        if options["json"]:
            self.stdout.write(json.dumps(report, indent=2))
            return
        for item in report:
            self.stdout.write(f"{item['pipeline']}: mean absolute percentage error per method")
            for method, error in item["mape"].items():
                shown = "n/a (no revenue)" if error is None else f"{error:.1%}"
                self.stdout.write(f"  {method:<12} {shown}")
