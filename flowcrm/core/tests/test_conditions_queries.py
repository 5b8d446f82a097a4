"""The Q compiler, snapshots and the field registry against the database."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from flowcrm.accounts.models import Team, User
from flowcrm.contacts.models import Company, Contact, Tag
from flowcrm.core.conditions import (
    FieldType,
    compile_q,
    evaluate,
    fields_for,
    parse_condition,
    related_paths,
    snapshot,
)
from flowcrm.core.errors import ValidationFailed
from flowcrm.core.models import CustomFieldDefinition
from flowcrm.sales.models import Deal, Pipeline, Stage

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 6, 15, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
def deals() -> dict[str, Deal]:
    CustomFieldDefinition.objects.create(
        record_type="deal", key="region", label="Region", field_type="text"
    )
    CustomFieldDefinition.objects.create(
        record_type="company", key="tier", label="Tier", field_type="choice", choices=["A", "B"]
    )
    pipeline = Pipeline.objects.create(name="Sales")
    open_stage = Stage.objects.create(pipeline=pipeline, name="Proposal", position=1)
    won_stage = Stage.objects.create(pipeline=pipeline, name="Won", position=2, is_won=True)
    emea = Team.objects.create(name="EMEA")
    rep = User.objects.create(email="rep@example.com", team=emea)
    loner = User.objects.create(email="loner@example.com")
    retail = Company.objects.create(name="Shop", industry="Retail", custom={"tier": "A"})
    bank = Company.objects.create(name="Bank", industry="Banking")

    def deal(title: str, **fields: Any) -> Deal:
        defaults: dict[str, Any] = {"pipeline": pipeline, "stage": open_stage}
        return Deal.objects.create(title=title, **(defaults | fields))

    return {
        "retail": deal(
            "Retail big",
            amount=Decimal("1200.50"),
            company=retail,
            owner=rep,
            custom={"region": "Nord"},
            expected_close_date=dt.date(2026, 6, 20),
        ),
        "bank": deal("Bank small", amount=Decimal("80"), company=bank, owner=loner),
        "orphan": deal("No company", amount=Decimal("0"), stage=won_stage, status="won"),
    }


def select(tree: dict[str, Any], **kwargs: Any) -> set[str]:
    condition = parse_condition(tree, record_type="deal")
    query = compile_q(condition, record_type="deal", now=NOW, **kwargs)
    return set(Deal.objects.filter(query).values_list("title", flat=True))


def test_relation_paths_filter_across_foreign_keys(deals: dict[str, Deal]) -> None:
    assert select({"field": "deal.company.industry", "op": "eq", "value": "retail"}) == {
        "Retail big"
    }
    assert select({"field": "deal.owner.team.name", "op": "eq", "value": "EMEA"}) == {"Retail big"}
    assert select({"field": "deal.stage.name", "op": "eq", "value": "won"}) == {"No company"}
    assert select({"field": "deal.company.custom.tier", "op": "eq", "value": "A"}) == {"Retail big"}


def test_negations_keep_records_whose_relation_or_value_is_missing(
    deals: dict[str, Deal],
) -> None:
    # given "No company" has no company and "Bank small" an owner without a team
    assert select({"field": "deal.company.industry", "op": "ne", "value": "Retail"}) == {
        "Bank small",
        "No company",
    }
    assert select({"not": {"field": "deal.owner.team.name", "op": "eq", "value": "EMEA"}}) == {
        "Bank small",
        "No company",
    }
    assert select({"field": "deal.custom.region", "op": "not_in", "value": ["Nord"]}) == {
        "Bank small",
        "No company",
    }
    assert select({"field": "deal.owner.team.name", "op": "is_empty"}) == {
        "Bank small",
        "No company",
    }


def test_numbers_dates_and_refs_compile_to_the_same_answers_as_evaluate(
    deals: dict[str, Deal],
) -> None:
    context = {"vars": {"threshold": 100}}
    tree = {
        "any": [
            {"field": "deal.amount", "op": "gte", "value": {"ref": "vars.threshold"}},
            {"field": "deal.expected_close_date", "op": "within_next", "value": 10},
        ]
    }
    assert select(tree, context=context) == {"Retail big"}
    assert select({"field": "deal.amount", "op": "between", "value": [80, 80.0]}) == {"Bank small"}
    condition = parse_condition(tree, record_type="deal")
    for deal in Deal.objects.all():
        record = snapshot(deal, record_type="deal")
        assert evaluate(condition, record, context=context, now=NOW) is (deal.title == "Retail big")


def test_change_operators_cannot_select_records(deals: dict[str, Deal]) -> None:
    tree = {"all": [{"field": "deal.status", "op": "changed_to", "value": "won"}]}
    condition = parse_condition(tree, record_type="deal")
    with pytest.raises(ValidationFailed) as refused:
        compile_q(condition, record_type="deal")
    assert refused.value.errors == {
        "condition.all[0].op": "operator 'changed_to' needs a triggering change; "
        "it cannot select records"
    }


def test_an_unresolved_reference_is_refused_when_compiling(deals: dict[str, Deal]) -> None:
    condition = parse_condition(
        {"field": "deal.amount", "op": "gt", "value": {"ref": "vars.limit"}}, record_type="deal"
    )
    with pytest.raises(ValidationFailed) as refused:
        compile_q(condition, record_type="deal", context={"vars": {}})
    assert refused.value.errors == {
        "condition.value": "reference 'vars.limit' is not in the run context"
    }


def test_a_compiled_condition_runs_as_one_query(
    deals: dict[str, Deal], django_assert_num_queries: Any
) -> None:
    tree = {
        "all": [
            {"field": "deal.company.industry", "op": "ne", "value": "x"},
            {"not": {"field": "deal.owner.team.name", "op": "in", "value": ["EMEA", "APAC"]}},
            {"field": "deal.custom.region", "op": "is_empty"},
        ]
    }
    query = compile_q(parse_condition(tree, record_type="deal"), record_type="deal", now=NOW)
    with django_assert_num_queries(1):
        titles = set(Deal.objects.filter(query).values_list("title", flat=True))
    assert titles == {"Bank small", "No company"}


def test_tags_match_any_tag_case_insensitively_without_duplicating_rows(db: None) -> None:
    vip, partner = Tag.objects.create(name="VIP"), Tag.objects.create(name="partner")
    both = Contact.objects.create(first_name="Both")
    both.tags.set([vip, partner])
    Contact.objects.create(first_name="None")
    condition = parse_condition(
        {
            "all": [
                {"field": "contact.tags", "op": "contains", "value": "vip"},
                {"field": "contact.tags", "op": "in", "value": ["partner", "other"]},
            ]
        },
        record_type="contact",
    )
    matched = list(Contact.objects.filter(compile_q(condition, record_type="contact")))
    assert [contact.first_name for contact in matched] == ["Both"]
    empty = parse_condition({"field": "contact.tags", "op": "is_empty"}, record_type="contact")
    assert [
        contact.first_name
        for contact in Contact.objects.filter(compile_q(empty, record_type="contact"))
    ] == ["None"]


def test_snapshot_reads_only_the_requested_paths(
    deals: dict[str, Deal], django_assert_num_queries: Any
) -> None:
    paths = ["deal.amount", "deal.owner.team.name", "deal.company.custom.tier", "deal.custom.x"]
    registry = fields_for("deal")
    wanted = [path for path in paths if path in registry]
    assert related_paths("deal", wanted) == ["company", "owner__team"]
    deal = Deal.objects.select_related("company", "owner__team").get(title="Retail big")
    with django_assert_num_queries(0):
        record = snapshot(deal, record_type="deal", paths=wanted, fields=registry)
    assert record == {
        "deal": {
            "amount": 1200.5,
            "owner": {"team": {"name": "EMEA"}},
            "company": {"custom": {"tier": "A"}},
        }
    }
    orphan = Deal.objects.get(title="No company")
    assert snapshot(orphan, record_type="deal", paths=["deal.company.industry"]) == {
        "deal": {"company": None}
    }


def test_snapshot_refuses_an_unknown_path(deals: dict[str, Deal]) -> None:
    with pytest.raises(ValidationFailed) as refused:
        snapshot(deals["bank"], record_type="deal", paths=["deal.nope"])
    assert refused.value.errors == {"paths": "unknown field 'deal.nope'"}


def test_the_registry_lists_model_and_custom_fields_with_types_and_choices(
    deals: dict[str, Deal],
) -> None:
    registry = fields_for("deal")
    assert registry["deal.amount"].type == FieldType.NUMBER
    assert registry["deal.status"].choices == ("open", "won", "lost")
    assert registry["deal.custom.region"].type == FieldType.TEXT
    assert registry["deal.company.custom.tier"].choices == ("A", "B")
    assert registry["deal.owner.team.name"].label == "Deal / User / Team / Name"
    assert registry["deal.owner.id"].type == FieldType.USER
    assert "deal.owner.team.id" in registry
    assert "deal.owner.team.members" not in registry
    assert "contact.tags" in fields_for("contact")
    with pytest.raises(ValidationFailed) as refused:
        fields_for("invoice")
    assert refused.value.errors == {"record_type": "unknown record type 'invoice'"}
