"""``flowcrm flows <validate|check|schema|export|apply>``: flow definitions from the shell."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

import flowcrm.flows
from flowcrm.flows.core.definition import load_definition
from flowcrm.flows.core.errors import DefinitionInvalid
from flowcrm.flows.core.schema import flow_json_schema_text

SCHEMA_FILE = Path(flowcrm.flows.__file__).parent / "schema" / "flow.schema.json"


class Command(BaseCommand):
    help = "Validate, check and publish the schema of flow definitions."

    def add_arguments(self, parser: CommandParser) -> None:
        commands = parser.add_subparsers(dest="subcommand", required=True)
        validate = commands.add_parser("validate", help="validate definition files (JSON or YAML)")
        validate.add_argument("files", nargs="+", type=Path)
        commands.add_parser("check", help="static checks of all active flows and drafts")
        export = commands.add_parser("export", help="write every flow as a YAML file")
        export.add_argument("directory", type=Path)
        apply = commands.add_parser("apply", help="create or update flow drafts from files")
        apply.add_argument("directory", type=Path)
        apply.add_argument(
            "--publish", action="store_true", help="publish and activate what changed"
        )
        schema = commands.add_parser("schema", help="print the definition JSON Schema")
        schema.add_argument(
            "--write", action="store_true", help=f"write it to {SCHEMA_FILE.name} in the package"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        handler = getattr(self, f"_{options['subcommand']}")
        handler(argparse.Namespace(**options))

    def _validate(self, options: argparse.Namespace) -> None:
        from flowcrm.flows.languages import install_languages

        install_languages()
        failed = 0
        for path in options.files:
            try:
                definition = load_definition(path.read_text(encoding="utf-8"))
            except OSError as exc:
                failed += 1
                self.stderr.write(f"{path}: cannot read: {exc.strerror}")
                continue
            except DefinitionInvalid as exc:
                failed += 1
                for error in exc.errors:
                    self.stderr.write(f"{path}: {error}")
                continue
            self.stdout.write(f"{path}: ok ({definition.name!r}, {len(definition.nodes)} nodes)")
        if failed:
            raise CommandError(f"{failed} of {len(options.files)} file(s) invalid")

    def _check(self, options: argparse.Namespace) -> None:
        from flowcrm.flows.checks import check_all_flows

        findings = check_all_flows()
        for finding in findings:
            flows = ", ".join(finding.flows)
            nodes = f" [{', '.join(finding.nodes)}]" if finding.nodes else ""
            line = f"{finding.severity}: {flows}: {finding.code}: {finding.message}{nodes}"
            (self.stderr if finding.severity == "error" else self.stdout).write(line)
        errors = sum(1 for f in findings if f.severity == "error")
        warnings = len(findings) - errors
        summary = f"{errors} error(s), {warnings} warning(s)"
        if errors:
            raise CommandError(summary)
        self.stdout.write(summary)

    def _export(self, options: argparse.Namespace) -> None:
        from flowcrm.flows.files import flows_export_files

        written = flows_export_files(directory=options.directory)
        for path in written:
            self.stdout.write(f"wrote {path}")
        self.stdout.write(f"{len(written)} flow(s) exported")

    def _apply(self, options: argparse.Namespace) -> None:
        from flowcrm.core.actors import Actor
        from flowcrm.core.errors import ValidationFailed
        from flowcrm.flows.files import DefinitionFilesInvalid, flows_apply_files

        if not options.directory.is_dir():
            raise CommandError(f"{options.directory}: not a directory")
        try:
            report = flows_apply_files(
                directory=options.directory,
                actor=Actor.system("flowcrm flows apply"),
                publish=options.publish,
            )
        except DefinitionFilesInvalid as exc:
            for problem in exc.problems:
                self.stderr.write(problem)
            raise CommandError(f"{len(exc.problems)} problem(s); nothing was applied") from exc
        except ValidationFailed as exc:
            for path, message in exc.errors.items():
                self.stderr.write(f"{path}: {message}")
            raise CommandError("publishing was refused") from exc
        for verb in ("created", "updated", "unchanged", "published"):
            for name in getattr(report, verb):
                self.stdout.write(f"{verb}: {name}")
        self.stdout.write(
            f"{len(report.created)} created, {len(report.updated)} updated, "
            f"{len(report.unchanged)} unchanged"
        )

    def _schema(self, options: argparse.Namespace) -> None:
        text = flow_json_schema_text()
        if options.write:
            SCHEMA_FILE.write_text(text, encoding="utf-8")
            self.stdout.write(f"wrote {SCHEMA_FILE.name}")
        else:
            self.stdout.write(text, ending="")
