"""``flowcrm import <contacts|companies|deals|activities> FILE`` with a progress bar or JSON."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from flowcrm.core.actors import Actor
from flowcrm.core.errors import DomainError, ValidationFailed
from flowcrm.imports.fields import SPECS
from flowcrm.imports.mapping import ImportOptions
from flowcrm.imports.models import ImportJob, MappingPreset
from flowcrm.imports.selectors import error_report_rows
from flowcrm.imports.services import import_configure, import_dry_run, import_from_path, import_run


class Command(BaseCommand):
    help = (
        "Import a CSV or XLSX file. Imported changes are recorded as events but do NOT trigger"
        " flows unless --trigger-flows is given."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("record_type", choices=list(SPECS))
        parser.add_argument("file", type=Path)
        parser.add_argument("--preset", choices=["hubspot", "salesforce"])
        parser.add_argument("--mapping", help="Name of a saved mapping for this record type.")
        parser.add_argument("--match", help="Match key(s), comma-separated: email,external_id")
        parser.add_argument("--policy", choices=["create", "update", "create-update"], default=None)
        parser.add_argument("--fill-empty", action="store_true", help="Only fill empty fields.")
        parser.add_argument(
            "--merge", action="store_true", help="Merge several matched records into one."
        )
        parser.add_argument("--trigger-flows", action="store_true")
        parser.add_argument("--dry-run", action="store_true", help="Validate only; write nothing.")
        parser.add_argument("--json", action="store_true", help="Print a JSON summary.")
        parser.add_argument("--chunk-size", type=int, default=5000)
        parser.add_argument("--error-report", type=Path, help="Where to write rejected rows.")

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(f"No file {path}.")
        actor = Actor.system("import (command line)")
        try:
            job = import_from_path(
                record_type=options["record_type"],
                path=path,
                preset=options["preset"],
                user=None,
                actor=actor,
            )
            job.chunk_size = max(100, options["chunk_size"])
            job.save(update_fields=["chunk_size"])
            import_options = self._options(job, options)
            if options["dry_run"]:
                self._dry_run(job, import_options, options["json"])
                return
            import_configure(job=job, options=import_options)
            job = self._run(job, quiet=options["json"])
        except ValidationFailed as error:
            raise CommandError("; ".join(f"{k}: {v}" for k, v in error.errors.items())) from error
        except DomainError as error:
            raise CommandError(str(error)) from error
        report = self._write_error_report(job, options["error_report"] or _default_report(path))
        summary = {**job.summary(), "error_report": str(report) if report else None}
        summary["job_id"] = job.pk
        if options["json"]:
            self.stdout.write(json.dumps(summary))
        else:
            self.stdout.write(
                f"{summary['rows']} rows: {summary['created']} created, {summary['updated']}"
                f" updated, {summary['unchanged']} unchanged, {summary['skipped']} skipped,"
                f" {summary['errors']} errors."
            )
            if report:
                self.stdout.write(f"Rejected rows: {report}")

    def _options(self, job: ImportJob, options: dict[str, Any]) -> ImportOptions:
        base = ImportOptions.model_validate(job.options)
        if options["mapping"]:
            preset = MappingPreset.objects.filter(
                record_type=job.record_type, name=options["mapping"]
            ).first()
            if preset is None:
                raise CommandError(
                    f"No saved mapping {options['mapping']!r} for {job.record_type}."
                )
            base = ImportOptions.model_validate(preset.options)
        updates: dict[str, Any] = {
            "notify_flows": options["trigger_flows"],
            "fill_empty": options["fill_empty"] or base.fill_empty,
            "merge_matches": options["merge"] or base.merge_matches,
        }
        if options["match"]:
            updates["match"] = [k.strip() for k in options["match"].split(",") if k.strip()]
        if options["policy"]:
            updates["policy"] = options["policy"]
        return base.model_copy(update=updates)

    def _dry_run(self, job: ImportJob, import_options: ImportOptions, as_json: bool) -> None:
        report = import_dry_run(job=job, options=import_options, user=None)
        summary = {
            "rows": report.rows,
            "created": report.would_create,
            "updated": report.would_update,
            "unchanged": report.unchanged,
            "skipped": report.skipped,
            "errors": report.errors,
            "error_report": None,
            "dry_run": True,
            "error_rows": report.error_rows[:20],
        }
        if as_json:
            self.stdout.write(json.dumps(summary))
            return
        self.stdout.write(
            f"Dry run, nothing written: {report.rows} rows, would create {report.would_create},"
            f" update {report.would_update}; {report.unchanged} unchanged, {report.skipped}"
            f" skipped, {report.errors} errors."
        )
        for row in report.error_rows[:20]:
            detail = "; ".join(f"{k}: {v}" for k, v in row["errors"].items())
            self.stdout.write(f"  line {row['line']}: {detail}")

    def _run(self, job: ImportJob, *, quiet: bool) -> ImportJob:
        if quiet:
            return import_run(job=job)
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

        self.stdout.write("Imported changes are recorded as events; flows are not triggered.")
        with Progress(
            "[progress.description]{task.description}",
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
        ) as bar:
            task = bar.add_task(f"Importing {job.record_type}", total=job.total_rows or None)

            def progress(current: ImportJob) -> None:
                bar.update(
                    task,
                    completed=current.rows_done,
                    description=f"Importing {job.record_type} ({current.error_count} errors)",
                )

            return import_run(job=job, progress=progress)

    def _write_error_report(self, job: ImportJob, target: Path) -> Path | None:
        if job.error_count == 0:
            return None
        with target.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            for row in error_report_rows(job):
                writer.writerow(row)
        return target


def _default_report(path: Path) -> Path:
    return path.with_name(f"{path.stem}.errors.csv")
