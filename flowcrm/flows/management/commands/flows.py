"""``flowcrm flows <validate|check|schema>``: flow definitions as files, from the shell."""

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
        schema = commands.add_parser("schema", help="print the definition JSON Schema")
        schema.add_argument(
            "--write", action="store_true", help=f"write it to {SCHEMA_FILE.name} in the package"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        handler = getattr(self, f"_{options['subcommand']}")
        handler(argparse.Namespace(**options))

    def _validate(self, options: argparse.Namespace) -> None:
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

    def _schema(self, options: argparse.Namespace) -> None:
        text = flow_json_schema_text()
        if options.write:
            SCHEMA_FILE.write_text(text, encoding="utf-8")
            self.stdout.write(f"wrote {SCHEMA_FILE.name}")
        else:
            self.stdout.write(text, ending="")
