from __future__ import annotations

import secrets
import threading
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from flowcrm.core import worker


class Command(BaseCommand):
    help = (
        "Start FlowCRM: migrate, load demo data into an empty database, then serve the web UI "
        "and API with the background worker in the same process."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--threads", type=int, default=8)
        parser.add_argument("--no-demo", action="store_true", help="Do not load demo data.")
        parser.add_argument(
            "--no-worker", action="store_true", help="Serve only; run workers apart."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        from waitress import serve  # type: ignore[import-untyped, unused-ignore]  # waitress ships no types

        from flowcrm.accounts.models import User
        from flowcrm.wsgi import application

        call_command("migrate", interactive=False, verbosity=0)
        self.stdout.write("Database is up to date.")
        if not options["no_demo"] and not User.objects.exists():
            self.stdout.write("Empty database: loading demo data (flowcrm demo)…")
            call_command("demo")
        email, password = self._admin_login()

        stop = threading.Event()
        if not options["no_worker"]:
            threading.Thread(
                target=worker.run_forever, args=(stop,), name="flowcrm-worker", daemon=True
            ).start()
        url = f"http://{options['host']}:{options['port']}/"
        self.stdout.write(self.style.SUCCESS(f"FlowCRM is running on {url}"))
        self.stdout.write(f"Log in as {email} with password {password}")
        self.stdout.write(f"API docs: {url}api/v1/docs · stop with Ctrl+C")
        try:
            serve(
                application, host=options["host"], port=options["port"], threads=options["threads"]
            )
        finally:
            stop.set()

    def _admin_login(self) -> tuple[str, str]:
        """The admin login to print; created (with a random password kept in the data folder)."""
        from flowcrm.accounts.models import Role, User

        login_file = settings.DATA_DIR / "admin-login.txt"
        email = "admin@flowcrm.local"
        if login_file.exists():
            email, password = login_file.read_text().strip().split(" ", 1)
            if User.objects.filter(email=email).exists():
                return email, password
        password = secrets.token_urlsafe(9)
        user = User.objects.filter(email=email).first()
        if user is None:
            user = User.objects.create_superuser(email, password, name="Admin", role=Role.ADMIN)
        else:
            user.set_password(password)
            user.save(update_fields=["password"])
        login_file.write_text(f"{email} {password}")
        login_file.chmod(0o600)
        return email, password
