"""The organisation of the demo: teams, users with roles, pipelines, custom fields and tags.

Created through the services (one event each), and idempotent: what already exists (by name or
e-mail) is reused, so ``flowcrm demo --force`` can add records to a database that has them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.contrib.auth.hashers import make_password

from flowcrm.accounts.models import Role, Team, User
from flowcrm.accounts.services import team_create, user_create
from flowcrm.contacts.models import Tag
from flowcrm.contacts.services import custom_field_create, tag_create
from flowcrm.core.actors import Actor
from flowcrm.core.models import CustomFieldDefinition
from flowcrm.demo.vocabulary import REGIONS
from flowcrm.sales.models import Pipeline, Stage
from flowcrm.sales.services import StageSpec, pipeline_create

DEMO_PASSWORD = "demo1234!"  # noqa: S105  # the documented password of the demo users
DEMO_EMAIL_DOMAIN = "demo.flowcrm.local"

TEAMS: tuple[tuple[str, str], ...] = (
    ("Marketing", "Campaigns, web forms and lead nurturing"),
    ("Sales", "New business: qualification to signature"),
    ("Service", "Support tickets and customer questions"),
    ("Finance", "Invoicing, renewals pricing and forecasts"),
    ("Customer Success", "Onboarding, adoption and renewals"),
)

# (name, role, team): twenty people, the lanes of the demo's flow diagrams.
USERS: tuple[tuple[str, str, str], ...] = (
    ("Sophie Martin", Role.MANAGER, "Sales"),
    ("Lukas Weber", Role.SALES_REP, "Sales"),
    ("Olivia Brown", Role.SALES_REP, "Sales"),
    ("Mateo García", Role.SALES_REP, "Sales"),
    ("Hannah Schmidt", Role.SALES_REP, "Sales"),
    ("James Wilson", Role.SALES_REP, "Sales"),
    ("Chloé Dubois", Role.SALES_REP, "Sales"),
    ("Aarav Patel", Role.SALES_REP, "Sales"),
    ("Emma Johansson", Role.MANAGER, "Marketing"),
    ("Noah Jansen", Role.MARKETER, "Marketing"),
    ("Giulia Rossi", Role.MARKETER, "Marketing"),
    ("Daniel Kowalski", Role.MANAGER, "Service"),
    ("Mia Fischer", Role.SUPPORT_AGENT, "Service"),
    ("Omar Haddad", Role.SUPPORT_AGENT, "Service"),
    ("Yuki Tanaka", Role.SUPPORT_AGENT, "Service"),
    ("Grace Murphy", Role.MANAGER, "Customer Success"),
    ("Felix Becker", Role.SALES_REP, "Customer Success"),
    ("Ana Silva", Role.SALES_REP, "Customer Success"),
    ("Lars Nilsson", Role.READ_ONLY, "Finance"),
    ("Priya Sharma", Role.MANAGER, "Finance"),
)

NEW_BUSINESS = "New business"
RENEWALS = "Renewals"
PIPELINES: tuple[tuple[str, bool, tuple[StageSpec, ...]], ...] = (
    (
        NEW_BUSINESS,
        True,
        (
            StageSpec("Lead in", probability=10, rotting_days=14),
            StageSpec("Qualified", probability=25, rotting_days=14),
            StageSpec("Demo", probability=40, rotting_days=10),
            StageSpec("Proposal", probability=60, rotting_days=14),
            StageSpec("Negotiation", probability=80, rotting_days=21),
            StageSpec("Won", probability=100, is_won=True),
            StageSpec("Lost", probability=0, is_lost=True),
        ),
    ),
    (
        RENEWALS,
        False,
        (
            StageSpec("Renewal due", probability=60, rotting_days=30),
            StageSpec("In review", probability=70, rotting_days=21),
            StageSpec("Quote sent", probability=85, rotting_days=14),
            StageSpec("Won", probability=100, is_won=True),
            StageSpec("Lost", probability=0, is_lost=True),
        ),
    ),
)
TAGS: tuple[tuple[str, str], ...] = (
    ("vip", "#b42318"),
    ("newsletter", "#175cd3"),
    ("partner", "#067647"),
    ("churn-risk", "#b54708"),
    ("event-2025", "#6941c6"),
)


@dataclass
class Organisation:
    """What the record generators need to know about the demo's set-up."""

    teams: dict[str, Team]
    users: list[User]
    sales_owners: list[int]
    success_owners: list[int]
    marketing_owners: list[int]
    pipelines: dict[str, Pipeline]
    stages: dict[str, dict[str, Stage]]
    tags: dict[str, int] = field(default_factory=dict)


def demo_email(name: str) -> str:
    from flowcrm.demo.people import ascii_slug

    return f"{ascii_slug(name)}@{DEMO_EMAIL_DOMAIN}"


def set_up_organisation(*, actor: Actor) -> Organisation:
    """Teams, users (password :data:`DEMO_PASSWORD`), pipelines, custom fields and tags."""
    teams = {team.name: team for team in Team.objects.all()}
    for name, description in TEAMS:
        if name not in teams:
            teams[name] = team_create(name=name, description=description, actor=actor)
    users: list[User] = []
    # One password hash for all demo users: hashing costs ~0.3 s each by design.
    password_hash = make_password(DEMO_PASSWORD)
    for name, role, team in USERS:
        email = demo_email(name)
        user = User.objects.filter(email=email).first()
        if user is None:
            user = user_create(
                email=email, password=None, name=name, role=role, team=teams[team], actor=actor
            )
            # The hash is a secret, not a field change to record: set it without an event.
            User.objects.filter(pk=user.pk).update(password=password_hash)
        users.append(user)
    by_team = {name: [u.pk for u in users if u.team_id == teams[name].pk] for name, _ in TEAMS}
    pipelines: dict[str, Pipeline] = {}
    for name, is_default, stage_specs in PIPELINES:
        pipeline = Pipeline.objects.filter(name=name).first()
        if pipeline is None:
            pipeline = pipeline_create(
                name=name, is_default=is_default, stages=stage_specs, actor=actor
            )
        pipelines[name] = pipeline
    stages = {
        name: {stage.name: stage for stage in pipeline.stages.order_by("position")}
        for name, pipeline in pipelines.items()
    }
    _define_custom_fields(actor=actor)
    tags = {tag.name: tag.pk for tag in Tag.objects.all()}
    for name, color in TAGS:
        if name not in tags:
            tags[name] = tag_create(name=name, color=color, actor=actor).pk
    return Organisation(
        teams=teams,
        users=users,
        sales_owners=by_team["Sales"],
        success_owners=by_team["Customer Success"],
        marketing_owners=by_team["Marketing"],
        pipelines=pipelines,
        stages=stages,
        tags=tags,
    )


def _define_custom_fields(*, actor: Actor) -> None:
    wanted = (
        {
            "record_type": "contact",
            "key": "region",
            "label": "Region",
            "field_type": "choice",
            "choices": sorted(set(REGIONS.values())),
            "help_text": "Sales region, from the contact's country.",
        },
        {
            "record_type": "company",
            "key": "renewal_date",
            "label": "Renewal date",
            "field_type": "date",
            "help_text": "When the customer's contract renews.",
        },
        {
            "record_type": "company",
            "key": "annual_revenue",
            "label": "Annual revenue",
            "field_type": "money",
        },
    )
    for values in wanted:
        exists = CustomFieldDefinition.objects.filter(
            record_type=values["record_type"], key=values["key"]
        ).exists()
        if not exists:
            custom_field_create(values=values, actor=actor)
