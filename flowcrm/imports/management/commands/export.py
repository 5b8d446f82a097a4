"""``flowcrm export <contacts|companies|deals> [--filter k=v …] [--output FILE]``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from flowcrm.accounts.models import User
from flowcrm.core.errors import ValidationFailed
from flowcrm.imports.exports import EXPORTS, csv_lines, export_queryset, export_rows


class Command(BaseCommand):
    help = "Export contacts, companies or deals as CSV (formula cells escaped)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("record_type", choices=list(EXPORTS))
        parser.add_argument("--filter", action="append", default=[], metavar="NAME=VALUE")
        parser.add_argument("--output", type=Path, help="File to write (default: stdout).")
        parser.add_argument(
            "--as-user", help="E-mail of the user whose visibility applies (default: an admin)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        user = self._user(options["as_user"])
        params: dict[str, str] = {}
        for item in options["filter"]:
            name, sep, value = item.partition("=")
            if not sep:
                raise CommandError(f"--filter {item!r}: use NAME=VALUE.")
            params[name.strip()] = value
        try:
            queryset = export_queryset(options["record_type"], user, params)
        except ValidationFailed as error:
            raise CommandError(str(error)) from error
        lines = csv_lines(export_rows(options["record_type"], queryset))
        if options["output"] is None:
            for line in lines:
                sys.stdout.write(line)
            return
        count = -1
        with options["output"].open("w", newline="", encoding="utf-8") as handle:
            for line in lines:
                handle.write(line)
                count += 1
        self.stderr.write(f"Wrote {count} {options['record_type']} to {options['output']}.")

    def _user(self, email: str | None) -> User:
        if email:
            user = User.objects.filter(email__iexact=email).first()
            if user is None:
                raise CommandError(f"No user {email}.")
            return user
        admin = User.objects.filter(is_superuser=True).order_by("id").first() or User(
            email="system", role="admin", is_superuser=True
        )
        return admin
