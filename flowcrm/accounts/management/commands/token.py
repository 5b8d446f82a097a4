from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from flowcrm.accounts.models import ApiToken, User
from flowcrm.accounts.services import token_create, token_revoke
from flowcrm.core.actors import Actor


class Command(BaseCommand):
    help = "Manage API tokens: create (prints the token once), list, revoke."

    def add_arguments(self, parser: Any) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="Create a token and print it once.")
        create.add_argument("--user", required=True, help="E-mail of the token's user.")
        create.add_argument("--name", default="CLI token")
        listing = sub.add_parser("list", help="List a user's tokens.")
        listing.add_argument("--user", required=True)
        revoke = sub.add_parser("revoke", help="Revoke a token by id.")
        revoke.add_argument("id", type=int)

    def handle(self, *args: Any, **options: Any) -> None:
        actor = Actor.system("flowcrm token")
        if options["action"] == "create":
            user = self._user(options["user"])
            _token, raw = token_create(user=user, name=options["name"], actor=actor)
            self.stdout.write(raw)
        elif options["action"] == "list":
            for token in ApiToken.objects.filter(user=self._user(options["user"])):
                state = "revoked" if token.revoked_at else "active"
                used = token.last_used_at.isoformat() if token.last_used_at else "never"
                self.stdout.write(
                    f"{token.pk}\t{token.prefix}…\t{token.name}\t{state}\tlast used {used}"
                )
        else:
            found = ApiToken.objects.filter(pk=options["id"]).first()
            if found is None:
                raise CommandError(f"No token with id {options['id']}.")
            token_revoke(token=found, actor=actor)
            self.stdout.write(f"revoked token {found.pk}")

    @staticmethod
    def _user(email: str) -> User:
        user = User.objects.filter(email=email.strip().lower()).first()
        if user is None:
            raise CommandError(f"No user with e-mail {email}.")
        return user
