"""``flowcrm demo``: load the deterministic demo data set (see docs/demo.md)."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from flowcrm.contacts.models import Company, Contact
from flowcrm.demo.loader import load_demo
from flowcrm.demo.setup import DEMO_EMAIL_DOMAIN, DEMO_PASSWORD
from flowcrm.sales.models import Deal


class Command(BaseCommand):
    help = (
        "Load realistic demo data (teams, users, pipelines, companies, contacts, deals with 18 "
        "months of stage history, activities, tasks) through the bulk service paths."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--contacts", type=int, default=10_000)
        parser.add_argument(
            "--companies", type=int, default=None, help="Default: one per five contacts."
        )
        parser.add_argument("--deals", type=int, default=4_000)
        parser.add_argument("--seed", type=int, default=42, help="Same seed, same data.")
        parser.add_argument(
            "--force",
            action="store_true",
            help="Add the demo records even though the database already has records.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        for name in ("contacts", "deals", "companies"):
            if options[name] is not None and options[name] < 0:
                raise CommandError(f"--{name} must be 0 or more.")
        if not options["force"] and (
            Contact.objects.exists() or Company.objects.exists() or Deal.objects.exists()
        ):
            raise CommandError(
                "The database already has contacts, companies or deals; demo data goes into an "
                "empty database. Use --force to add it anyway."
            )
        started = time.perf_counter()
        summary = load_demo(
            contacts=options["contacts"],
            companies=options["companies"],
            deals=options["deals"],
            seed=options["seed"],
            progress=lambda message: self.stdout.write(f"  {message}"),
        )
        elapsed = time.perf_counter() - started
        self.stdout.write(
            self.style.SUCCESS(f"Demo data loaded in {elapsed:.1f} s (seed {options['seed']}).")
        )
        self.stdout.write(
            f"Demo users (e.g. sophie.martin@{DEMO_EMAIL_DOMAIN}, a sales manager) log in with "
            f"the password {DEMO_PASSWORD}"
        )
        del summary
