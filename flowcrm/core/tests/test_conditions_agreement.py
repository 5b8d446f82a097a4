"""Property: the Python evaluator and the compiled Q select exactly the same records.

Random trees (depth <= 3) over random contacts saved to the database — nulls, missing custom
keys, case and accent variants, ints and floats, dates, tags, null relations.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flowcrm.accounts.models import Team, User
from flowcrm.contacts.models import Company, Contact, Tag
from flowcrm.core.conditions import (
    OPERATORS_BY_TYPE,
    FieldType,
    Operator,
    compile_q,
    condition_fields,
    evaluate,
    fields_for,
    parse_condition,
    snapshot,
)
from flowcrm.core.models import CustomFieldDefinition
from flowcrm.sales.models import Deal, Pipeline, Stage

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 6, 15, 12, 0, tzinfo=dt.UTC)
TEXTS = ["Ana", "ana", "ANA", "Émile", "émile", "ÉMILE", "Zoë", "50%_off", "o'Brien", "straße"]
INDUSTRIES = ["Retail", "retail", "RETAIL", "Énergie", "énergie", ""]
NUMBERS: list[int | float] = [0, 1, 2, 2.5, 10, 10.0, -3, 49.99, 50]
DATES = ["2026-06-01", "2026-06-14", "2026-06-15", "2026-06-20", "2025-01-01"]
DATETIMES = [
    NOW - dt.timedelta(days=days, hours=hours) for days in (0, 1, 8, 40) for hours in (0, 3)
]
EMAILS = ["ana@example.com", "ANA@example.com", "zoë@x.io"]
TAGS = ["vip", "VIP2", "église", "Église", "partner"]
FLAG_CHOICES = ["alpha", "Beta", "über"]
TIER_CHOICES = ["gold", "Silver", "Élite"]

FIELD_POOLS: dict[str, tuple[FieldType, list[Any]]] = {
    "contact.first_name": (FieldType.TEXT, TEXTS),
    "contact.email": (FieldType.TEXT, ["ana@example.com", "ANA@example.com", "zoë@example.com"]),
    "contact.lifecycle_stage": (FieldType.CHOICE, ["lead", "customer", "LEAD"]),
    "contact.score": (FieldType.NUMBER, NUMBERS),
    "contact.unsubscribed": (FieldType.BOOLEAN, [True, False]),
    "contact.created_at": (FieldType.DATETIME, [d.isoformat() for d in DATETIMES]),
    "contact.tags": (FieldType.MULTI_CHOICE, TAGS),
    "contact.company.industry": (FieldType.TEXT, INDUSTRIES[:-1]),
    "contact.company.custom.segment": (FieldType.TEXT, TEXTS),
    "contact.owner.email": (FieldType.TEXT, ["rep1@example.com", "REP2@example.com"]),
    "contact.owner.team.name": (FieldType.TEXT, ["Sales", "sales", "Ventes"]),
    "contact.owner.id": (FieldType.USER, []),
    "contact.custom.region": (FieldType.TEXT, TEXTS),
    "contact.custom.seats": (FieldType.NUMBER, NUMBERS),
    "contact.custom.renewal": (FieldType.DATE, DATES),
    "contact.custom.vip": (FieldType.BOOLEAN, [True, False]),
    "contact.custom.tier": (FieldType.CHOICE, TIER_CHOICES),
    "contact.custom.flags": (FieldType.MULTI_CHOICE, FLAG_CHOICES),
}
VALUELESS = {Operator.IS_EMPTY, Operator.IS_NOT_EMPTY}
RELATIVE = {Operator.WITHIN_LAST, Operator.WITHIN_NEXT, Operator.MORE_THAN_DAYS_AGO}
CHANGES = {Operator.CHANGED, Operator.CHANGED_TO, Operator.CHANGED_FROM}


def _seed_world() -> dict[str, list[Any]]:
    """Users, teams, companies and tags every example draws from (created once per test)."""
    for key, kind, choices in [
        ("region", "text", []),
        ("seats", "number", []),
        ("renewal", "date", []),
        ("vip", "boolean", []),
        ("tier", "choice", TIER_CHOICES),
        ("flags", "multi_choice", FLAG_CHOICES),
    ]:
        CustomFieldDefinition.objects.create(
            record_type="contact", key=key, label=key.title(), field_type=kind, choices=choices
        )
    CustomFieldDefinition.objects.create(
        record_type="company", key="segment", label="Segment", field_type="text"
    )
    sales, ventes = Team.objects.create(name="Sales"), Team.objects.create(name="Ventes")
    users = [
        User.objects.create(email="rep1@example.com", team=sales),
        User.objects.create(email="rep2@example.com", team=ventes),
        User.objects.create(email="rep3@example.com", team=None),
    ]
    companies = [
        Company.objects.create(name=f"Company {index}", industry=industry, custom=custom)
        for index, (industry, custom) in enumerate(
            [
                ("Retail", {"segment": "Ana"}),
                ("retail", {}),
                ("Énergie", {"segment": "émile"}),
                ("", {"segment": "ANA"}),
            ]
        )
    ]
    tags = [Tag.objects.create(name=name) for name in TAGS]
    return {"users": users, "companies": companies, "tags": tags}


def _custom_values() -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {},
        optional={
            "region": st.sampled_from(TEXTS),
            "seats": st.sampled_from(NUMBERS),
            "renewal": st.sampled_from(DATES),
            "vip": st.booleans(),
            "tier": st.sampled_from(TIER_CHOICES),
            "flags": st.lists(st.sampled_from(FLAG_CHOICES), unique=True, max_size=3),
        },
    )


CONTACTS = st.lists(
    st.fixed_dictionaries(
        {
            "first_name": st.sampled_from(["", *TEXTS]),
            "email": st.none()
            | st.sampled_from(["ana@example.com", "ANA@example.com", "zoë@x.io"]),
            "lifecycle_stage": st.sampled_from(["lead", "customer", "other"]),
            "score": st.sampled_from([0, 1, 2, 10, -3, 49, 50, 51]),
            "unsubscribed": st.booleans(),
            "created_at": st.sampled_from(DATETIMES),
            "company": st.none() | st.integers(0, 3),
            "owner": st.none() | st.integers(0, 2),
            "tags": st.lists(st.integers(0, len(TAGS) - 1), unique=True, max_size=3),
            "custom": _custom_values(),
        }
    ),
    min_size=3,
    max_size=8,
)


@st.composite
def rules(draw: st.DrawFn, pools: dict[str, tuple[FieldType, list[Any]]]) -> dict[str, Any]:
    path = draw(st.sampled_from(sorted(pools)))
    field_type, pool = pools[path]
    allowed = [op for op in OPERATORS_BY_TYPE[field_type] if op not in CHANGES]
    op = draw(st.sampled_from(allowed))
    rule: dict[str, Any] = {"field": path, "op": op.value}
    if op in VALUELESS:
        return rule
    if op in RELATIVE:
        amount = draw(st.sampled_from([0, 1, 7, 30]))
        if field_type == FieldType.DATETIME and op != Operator.MORE_THAN_DAYS_AGO:
            rule["value"] = {"amount": amount, "unit": draw(st.sampled_from(["days", "hours"]))}
        else:
            rule["value"] = amount
        return rule
    if field_type == FieldType.USER:
        pool = [1, 2, 3]  # replaced by real ids in the test
    items = st.sampled_from(pool)
    if op in (Operator.IN, Operator.NOT_IN):
        rule["value"] = draw(st.lists(items, min_size=1, max_size=3))
    elif op == Operator.BETWEEN:
        rule["value"] = sorted(draw(st.lists(items, min_size=2, max_size=2)))
    else:
        rule["value"] = draw(items)
    return rule


def trees(
    pools: dict[str, tuple[FieldType, list[Any]]], depth: int = 3
) -> st.SearchStrategy[dict[str, Any]]:
    """Random trees of at most ``depth`` group levels over the fields in ``pools``."""
    leaf = rules(pools)
    if depth == 0:
        return leaf
    child = trees(pools, depth - 1)
    return st.one_of(
        leaf,
        st.builds(lambda items: {"all": items}, st.lists(child, max_size=2)),
        st.builds(lambda items: {"any": items}, st.lists(child, max_size=3)),
        st.builds(lambda item: {"not": item}, child),
    )


def _user_ids(tree: Any, users: list[User]) -> Any:
    """Rules on ``contact.owner.id`` draw 1..3: map them onto the seeded users' ids."""
    if isinstance(tree, dict):
        if tree.get("field") == "contact.owner.id" and "value" in tree:
            value = tree["value"]
            mapped = [users[item - 1].pk for item in value] if isinstance(value, list) else None
            return {**tree, "value": mapped if mapped is not None else users[value - 1].pk}
        return {key: _user_ids(value, users) for key, value in tree.items()}
    if isinstance(tree, list):
        return [_user_ids(item, users) for item in tree]
    return tree


def test_evaluate_and_compile_q_agree_on_random_trees_and_contacts() -> None:
    world = _seed_world()
    registry = fields_for("contact")

    @settings(
        max_examples=150,
        derandomize=True,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        database=None,
    )
    @given(tree=trees(FIELD_POOLS), contacts=CONTACTS)
    def agree(tree: dict[str, Any], contacts: list[dict[str, Any]]) -> None:
        # each example's rows are rolled back, so examples never see each other's contacts
        with transaction.atomic():
            check(tree, contacts)
            transaction.set_rollback(True)

    def check(tree: dict[str, Any], contacts: list[dict[str, Any]]) -> None:
        # given contacts saved in bulk
        saved = Contact.objects.bulk_create(
            [
                Contact(
                    first_name=row["first_name"],
                    email=row["email"] if index == 0 else None,  # e-mail is unique
                    lifecycle_stage=row["lifecycle_stage"],
                    score=row["score"],
                    unsubscribed=row["unsubscribed"],
                    created_at=row["created_at"],
                    company=None if row["company"] is None else world["companies"][row["company"]],
                    owner=None if row["owner"] is None else world["users"][row["owner"]],
                    custom=row["custom"],
                )
                for index, row in enumerate(contacts)
            ]
        )
        Contact.tags.through.objects.bulk_create(
            [
                Contact.tags.through(contact_id=contact.pk, tag_id=world["tags"][tag].pk)
                for contact, row in zip(saved, contacts, strict=True)
                for tag in row["tags"]
            ]
        )
        condition = parse_condition(
            _user_ids(tree, world["users"]), record_type="contact", fields=registry
        )
        # when both evaluators run
        selected = set(
            Contact.objects.filter(
                compile_q(condition, record_type="contact", now=NOW, fields=registry)
            ).values_list("pk", flat=True)
        )
        paths = condition_fields(condition)
        loaded = Contact.objects.select_related("company", "owner__team").prefetch_related("tags")
        expected = {
            contact.pk
            for contact in loaded
            if evaluate(
                condition,
                snapshot(contact, record_type="contact", paths=paths, fields=registry),
                now=NOW,
            )
        }
        # then they select the same contacts
        assert selected == expected, tree

    agree()


DEAL_POOLS: dict[str, tuple[FieldType, list[Any]]] = {
    "deal.amount": (FieldType.NUMBER, [0, 80, 80.5, 1200, 1200.5, 99999.99]),
    "deal.expected_close_date": (FieldType.DATE, DATES),
    "deal.closed_at": (FieldType.DATETIME, [d.isoformat() for d in DATETIMES]),
    "deal.status": (FieldType.CHOICE, ["open", "won", "lost"]),
    "deal.stage.name": (FieldType.TEXT, ["Proposal", "proposal", "Won"]),
    "deal.stage.probability": (FieldType.NUMBER, [0, 50, 100]),
    "deal.pipeline.name": (FieldType.TEXT, ["Sales", "Renewals"]),
    "deal.company.industry": (FieldType.TEXT, ["Retail", "RETAIL", "Énergie"]),
    "deal.owner.team.name": (FieldType.TEXT, ["Sales", "Ventes"]),
    "deal.custom.seats": (FieldType.NUMBER, NUMBERS),
}


def test_evaluate_and_compile_q_agree_on_random_trees_and_deals() -> None:
    world = _seed_world()
    CustomFieldDefinition.objects.create(
        record_type="deal", key="seats", label="Seats", field_type="number"
    )
    registry = fields_for("deal")
    pipelines = [Pipeline.objects.create(name="Sales"), Pipeline.objects.create(name="Renewals")]
    stages = [
        Stage.objects.create(pipeline=pipeline, name=name, probability=probability)
        for pipeline in pipelines
        for name, probability in (("Proposal", 50), ("Won", 100))
    ]
    deal_rows = st.fixed_dictionaries(
        {
            "amount": st.sampled_from(["0", "80", "80.50", "1200.49", "1200.50", "99999.99"]),
            "expected_close_date": st.none() | st.sampled_from(DATES),
            "closed_at": st.none() | st.sampled_from(DATETIMES),
            "status": st.sampled_from(["open", "won", "lost"]),
            "stage": st.integers(0, len(stages) - 1),
            "company": st.none() | st.integers(0, 3),
            "owner": st.none() | st.integers(0, 2),
            "custom": st.fixed_dictionaries({}, optional={"seats": st.sampled_from(NUMBERS)}),
        }
    )

    @settings(max_examples=60, derandomize=True, deadline=None, database=None)
    @given(tree=trees(DEAL_POOLS), rows=st.lists(deal_rows, min_size=3, max_size=8))
    def agree(tree: dict[str, Any], rows: list[dict[str, Any]]) -> None:
        with transaction.atomic():
            check(tree, rows)
            transaction.set_rollback(True)

    def check(tree: dict[str, Any], rows: list[dict[str, Any]]) -> None:
        # given deals saved in bulk
        Deal.objects.bulk_create(
            [
                Deal(
                    title=f"Deal {index}",
                    amount=Decimal(row["amount"]),
                    expected_close_date=row["expected_close_date"],
                    closed_at=row["closed_at"],
                    status=row["status"],
                    stage=stages[row["stage"]],
                    pipeline=stages[row["stage"]].pipeline,
                    company=None if row["company"] is None else world["companies"][row["company"]],
                    owner=None if row["owner"] is None else world["users"][row["owner"]],
                    custom=row["custom"],
                )
                for index, row in enumerate(rows)
            ]
        )
        condition = parse_condition(tree, record_type="deal", fields=registry)
        # when both evaluators run
        query = compile_q(condition, record_type="deal", now=NOW, fields=registry)
        selected = set(Deal.objects.filter(query).values_list("pk", flat=True))
        paths = condition_fields(condition)
        loaded = Deal.objects.select_related("stage", "pipeline", "company", "owner__team")
        expected = {
            deal.pk
            for deal in loaded
            if evaluate(
                condition,
                snapshot(deal, record_type="deal", paths=paths, fields=registry),
                now=NOW,
            )
        }
        # then they select the same deals
        assert selected == expected, tree

    agree()
