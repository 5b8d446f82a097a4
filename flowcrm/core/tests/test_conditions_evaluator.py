"""The Python evaluator on snapshots: every operator for every type, missing values, refs,
changes and traces. No database: the field registry is built by hand."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from typing import Any

import pytest

from flowcrm.core.conditions import (
    CONDITION_ADAPTER,
    FieldInfo,
    FieldType,
    condition_to_json,
    evaluate,
    explain,
    parse_condition,
)
from flowcrm.core.errors import ValidationFailed

NOW = dt.datetime(2026, 6, 15, 12, 0, tzinfo=dt.UTC)
T = FieldType
REGISTRY = {
    info.path: info
    for info in [
        FieldInfo("deal.title", T.TEXT, "Title", column="title"),
        FieldInfo("deal.amount", T.NUMBER, "Amount", column="amount"),
        FieldInfo("deal.close", T.DATE, "Close", column="close"),
        FieldInfo("deal.closed_at", T.DATETIME, "Closed at", column="closed_at"),
        FieldInfo("deal.won", T.BOOLEAN, "Won", column="won"),
        FieldInfo("deal.status", T.CHOICE, "Status", ("open", "won", "lost"), column="status"),
        FieldInfo("deal.labels", T.MULTI_CHOICE, "Labels", column="labels"),
        FieldInfo("deal.owner.id", T.USER, "Owner", relations=("owner",), column="id"),
        FieldInfo(
            "deal.company.industry", T.TEXT, "Industry", relations=("company",), column="industry"
        ),
        FieldInfo("deal.custom.region", T.TEXT, "Region", custom_key="region"),
    ]
}
RECORD: dict[str, Any] = {
    "deal": {
        "title": "Big Renewal + Zoë GmbH",
        "amount": 1200.5,
        "close": "2026-06-20",
        "closed_at": "2026-06-14T12:00:00+00:00",
        "won": True,
        "status": "won",
        "labels": ["Hot", "emea"],
        "owner": {"id": 7},
        "company": {"industry": "Retail"},
        "custom": {"region": "Nord"},
    }
}
EMPTY: dict[str, Any] = {"deal": {"title": "", "labels": [], "company": None, "custom": {}}}


def check(tree: dict[str, Any], record: dict[str, Any] = RECORD, **kwargs: Any) -> bool:
    condition = parse_condition(tree, record_type="deal", fields=REGISTRY)
    return evaluate(condition, record, now=NOW, **kwargs)


def rule(field: str, op: str, value: Any = None) -> dict[str, Any]:
    data = {"field": f"deal.{field}", "op": op}
    return data if value is None else {**data, "value": value}


CASES = [
    # text: ASCII letters compare case-insensitively, everything else exactly
    ("title", "eq", "big renewal + zoë gmbh", True),
    ("title", "eq", "BIG RENEWAL + ZOË GMBH", False),
    ("title", "ne", "Small", True),
    ("title", "contains", "RENEWAL", True),
    ("title", "contains", "ZOË", False),
    ("title", "not_contains", "renewal", False),
    ("title", "starts_with", "big", True),
    ("title", "ends_with", "gmbh", True),
    ("title", "in", ["x", "BIG RENEWAL + Zoë GmbH"], True),
    ("title", "not_in", ["x", "y"], True),
    ("title", "is_empty", None, False),
    ("title", "is_not_empty", None, True),
    ("company.industry", "eq", "retail", True),
    ("custom.region", "in", ["nord", "süd"], True),
    # number: ints and floats compare as decimals
    ("amount", "eq", 1200.5, True),
    ("amount", "ne", 1200.5, False),
    ("amount", "gt", 1200, True),
    ("amount", "gte", 1200.5, True),
    ("amount", "lt", 1200.5, False),
    ("amount", "lte", 1200.5, True),
    ("amount", "between", [1000, 1200.5], True),
    ("amount", "between", [1300, 1400], False),
    ("amount", "in", [1, 1200.5], True),
    ("amount", "not_in", [1, 2], True),
    # date: relative windows are counted in days from NOW's date (2026-06-15)
    ("close", "eq", "2026-06-20", True),
    ("close", "gt", "2026-06-19", True),
    ("close", "between", ["2026-06-01", "2026-06-30"], True),
    ("close", "within_next", 5, True),
    ("close", "within_next", 4, False),
    ("close", "within_last", 30, False),
    ("close", "more_than_days_ago", 1, False),
    # datetime
    ("closed_at", "gt", "2026-06-14T11:59:59+00:00", True),
    ("closed_at", "within_last", {"amount": 24, "unit": "hours"}, True),
    ("closed_at", "within_last", {"amount": 23, "unit": "hours"}, False),
    ("closed_at", "within_last", 1, True),
    ("closed_at", "more_than_days_ago", 1, False),
    ("closed_at", "within_next", 3, False),
    # boolean, choice, multi-choice, user
    ("won", "eq", True, True),
    ("won", "ne", True, False),
    ("status", "eq", "WON", True),
    ("status", "in", ["open", "won"], True),
    ("status", "not_in", ["open", "lost"], True),
    ("labels", "contains", "hot", True),
    ("labels", "not_contains", "apac", True),
    ("labels", "in", ["apac", "EMEA"], True),
    ("labels", "not_in", ["apac"], True),
    ("labels", "is_not_empty", None, True),
    ("owner.id", "eq", 7, True),
    ("owner.id", "in", [1, 2], False),
]


@pytest.mark.parametrize(("field", "op", "value", "expected"), CASES)
def test_each_operator_on_a_present_value(field: str, op: str, value: Any, expected: bool) -> None:
    assert check(rule(field, op, value)) is expected


MISSING_CASES = [
    ("title", "eq", "x", False),
    ("title", "ne", "x", True),
    ("title", "contains", "x", False),
    ("title", "not_contains", "x", True),
    ("title", "starts_with", "x", False),
    ("title", "in", ["x"], False),
    ("title", "not_in", ["x"], True),
    ("title", "is_empty", None, True),
    ("title", "is_not_empty", None, False),
    ("amount", "eq", 0, False),
    ("amount", "lt", 10, False),
    ("amount", "ne", 0, True),
    ("amount", "between", [-1, 1], False),
    ("close", "more_than_days_ago", 1, False),
    ("close", "within_next", 10, False),
    ("closed_at", "within_last", 10, False),
    ("won", "eq", False, False),
    ("won", "ne", True, True),
    ("status", "in", ["open"], False),
    ("labels", "contains", "hot", False),
    ("labels", "not_contains", "hot", True),
    ("labels", "is_empty", None, True),
    ("owner.id", "ne", 7, True),
    ("owner.id", "is_empty", None, True),
    ("company.industry", "eq", "Retail", False),
    ("company.industry", "ne", "Retail", True),
    ("company.industry", "is_empty", None, True),
    ("custom.region", "eq", "Nord", False),
    ("custom.region", "not_in", ["Nord"], True),
]


@pytest.mark.parametrize(("field", "op", "value", "expected"), MISSING_CASES)
def test_a_missing_value_fails_positive_and_passes_negative_operators(
    field: str, op: str, value: Any, expected: bool
) -> None:
    # given a deal with empty text, no labels, no company, no owner, no custom values
    assert check(rule(field, op, value), EMPTY) is expected


def test_not_inverts_a_rule_on_a_missing_value() -> None:
    assert check({"not": rule("amount", "gt", 5)}, EMPTY) is True
    assert check({"not": rule("amount", "ne", 5)}, EMPTY) is False


def test_groups_combine_children_and_empty_groups_have_fixed_results() -> None:
    yes, no = rule("won", "eq", True), rule("won", "eq", False)
    assert check({"all": [yes, yes]}) is True
    assert check({"all": [yes, no]}) is False
    assert check({"any": [no, yes]}) is True
    assert check({"any": [no, no]}) is False
    assert check({"all": []}) is True
    assert check({"any": []}) is False


def test_references_are_read_from_the_run_context() -> None:
    tree = rule("amount", "gte", {"ref": "vars.threshold"})
    assert check(tree, context={"vars": {"threshold": 1000}}) is True
    assert check(tree, context={"vars": {"threshold": 5000}}) is False
    listed = rule("status", "in", ["lost", {"ref": "trigger.status"}])
    assert check(listed, context={"trigger": {"status": "Won"}}) is True


def test_an_unresolved_or_ill_typed_reference_names_the_rule() -> None:
    tree = {"all": [rule("won", "eq", True), rule("amount", "gte", {"ref": "vars.threshold"})]}
    with pytest.raises(ValidationFailed) as missing:
        check(tree, context={"vars": {}})
    assert missing.value.errors == {
        "condition.all[1].value": "reference 'vars.threshold' is not in the run context"
    }
    with pytest.raises(ValidationFailed) as wrong:
        check(tree, context={"vars": {"threshold": "lots"}})
    assert wrong.value.errors == {"condition.all[1].value": "expected a number"}


def test_change_operators_read_the_triggering_changes() -> None:
    changes = {"status": {"before": "open", "after": "won"}, "owner_id": {"before": 1, "after": 7}}
    assert check(rule("status", "changed"), changes=changes) is True
    assert check(rule("status", "changed_to", "Won"), changes=changes) is True
    assert check(rule("status", "changed_from", "open"), changes=changes) is True
    assert check(rule("status", "changed_from", "lost"), changes=changes) is False
    assert check(rule("amount", "changed"), changes=changes) is False
    assert check(rule("owner.id", "changed_to", 7), changes=changes) is True
    assert check(rule("status", "changed")) is False  # no triggering change at all


def test_custom_field_changes_may_be_recorded_as_the_whole_custom_dict() -> None:
    changes = {"custom": {"before": {"region": "Nord"}, "after": {"region": "Süd"}}}
    assert check(rule("custom.region", "changed_to", "süd"), changes=changes) is True
    assert check(rule("custom.region", "changed_from", "NORD"), changes=changes) is True


def test_explain_shows_every_rule_with_the_value_it_saw() -> None:
    tree = parse_condition(
        {"any": [rule("amount", "gt", 5000), {"not": rule("custom.region", "eq", "Süd")}]},
        record_type="deal",
        fields=REGISTRY,
    )
    trace = explain(tree, RECORD, now=NOW)
    assert trace.to_dict() == {
        "kind": "any",
        "path": "condition",
        "result": True,
        "children": [
            {
                "kind": "rule",
                "path": "condition.any[0]",
                "result": False,
                "field": "deal.amount",
                "op": "gt",
                "value": 5000,
                "seen": 1200.5,
            },
            {
                "kind": "not",
                "path": "condition.any[1]",
                "result": True,
                "children": [
                    {
                        "kind": "rule",
                        "path": "condition.any[1].not",
                        "result": False,
                        "field": "deal.custom.region",
                        "op": "eq",
                        "value": "Süd",
                        "seen": "Nord",
                    }
                ],
            },
        ],
    }


def test_a_parsed_tree_serialises_back_to_its_json() -> None:
    data = {"all": [rule("amount", "gt", 5), {"not": {"any": [rule("title", "is_empty")]}}]}
    assert condition_to_json(parse_condition(data, record_type="deal", fields=REGISTRY)) == data


SHAPE_ERROR = (
    'expected an object: {"all": [...]}, {"any": [...]}, {"not": {...}} '
    'or a rule {"field", "op", "value"}'
)
PARSE_ERRORS = [
    (
        {"all": [rule("won", "eq", True), {"field": "deal.compnay.industry", "op": "eq"}]},
        {"condition.all[1].field": "unknown field 'deal.compnay.industry'"},
    ),
    (
        {"field": "contact.email", "op": "eq", "value": "x"},
        {"condition.field": "unknown field 'contact.email' (paths start with 'deal')"},
    ),
    (
        rule("title", "gt", "a"),
        {
            "condition.op": "operator 'gt' is not allowed for text field 'deal.title' (allowed: "
            "eq, ne, in, not_in, contains, not_contains, starts_with, ends_with, is_empty, "
            "is_not_empty, changed, changed_to, changed_from)"
        },
    ),
    (rule("amount", "eq", "12"), {"condition.value": "expected a number"}),
    (
        rule("amount", "between", [1]),
        {"condition.value": "expected a list of two values [low, high]"},
    ),
    (rule("amount", "in", []), {"condition.value": "expected a non-empty list of values"}),
    (rule("title", "eq", ""), {"condition.value": "expected non-empty text"}),
    (rule("close", "eq", "15.06.2026"), {"condition.value": "expected a date as YYYY-MM-DD"}),
    (
        rule("status", "eq", "pending"),
        {"condition.value": "'pending' is not one of open, won, lost"},
    ),
    (rule("title", "is_empty", "x"), {"condition.value": "operator 'is_empty' takes no value"}),
    (rule("amount", "gt"), {"condition.value": "a value is required"}),
    (
        rule("close", "within_last", {"amount": 2, "unit": "hours"}),
        {"condition.value": 'unit must be "days"'},
    ),
    (
        rule("company.industry", "changed"),
        {
            "condition.op": "operator 'changed' needs a field of the deal itself "
            "(a change of 'deal.company.industry' is not in the record's events)"
        },
    ),
    ({"not": [rule("won", "eq", True)]}, {"condition.not": SHAPE_ERROR}),
    (
        {"all": [rule("won", "eq", True)], "any": []},
        {"condition": "a 'all' group must have no other keys"},
    ),
    ({**rule("won", "eq", True), "extra": 1}, {"condition.extra": "unknown key 'extra'"}),
    (rule("won", "approx", True), {"condition.op": "unknown operator 'approx'"}),
    (
        rule("amount", "gt", {"ref": "vars..x"}),
        {"condition.value": 'a reference is {"ref": "vars.name"}'},
    ),
]


@pytest.mark.parametrize(("data", "errors"), PARSE_ERRORS)
def test_invalid_trees_are_refused_with_json_paths(data: Any, errors: dict[str, str]) -> None:
    with pytest.raises(ValidationFailed) as refused:
        parse_condition(data, record_type="deal", fields=REGISTRY)
    assert refused.value.errors == errors


def test_parse_reports_every_bad_rule_under_its_own_path() -> None:
    data = {"any": [rule("nope", "eq", 1), rule("amount", "eq", "x"), rule("won", "eq", True)]}
    with pytest.raises(ValidationFailed) as refused:
        parse_condition(data, record_type="deal", path="nodes[2].config.condition", fields=REGISTRY)
    assert refused.value.errors == {
        "nodes[2].config.condition.any[0].field": "unknown field 'deal.nope'",
        "nodes[2].config.condition.any[1].value": "expected a number",
    }


def test_too_deep_trees_are_refused() -> None:
    data: dict[str, Any] = rule("won", "eq", True)
    for _ in range(10):
        data = {"not": data}
    with pytest.raises(ValidationFailed) as refused:
        parse_condition(data, record_type="deal", fields=REGISTRY)
    assert refused.value.errors == {
        "condition" + ".not" * 10: "conditions may nest at most 10 levels"
    }


def test_the_evaluator_imports_and_runs_without_django() -> None:
    # given a fresh interpreter that only imports the condition package and evaluates a tree
    script = (
        "import sys\n"
        "from flowcrm.core.conditions import FieldInfo, FieldType, evaluate, parse_condition\n"
        "info = FieldInfo('deal.amount', FieldType.NUMBER, 'A', column='amount')\n"
        "fields = {'deal.amount': info}\n"
        "tree = parse_condition({'field': 'deal.amount', 'op': 'gt', 'value': 5},"
        " record_type='deal', fields=fields)\n"
        "print(evaluate(tree, {'deal': {'amount': 6}}),"
        " sorted({m.split('.')[0] for m in sys.modules if m.startswith('django')}))\n"
    )
    # when it runs
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    )
    # then it evaluates without loading Django at all
    assert done.stdout.strip() == "True []"


def test_one_parsed_tree_follows_the_clock_and_the_context_between_evaluations() -> None:
    # given one parsed tree with a relative date and a reference, evaluated repeatedly
    tree = parse_condition(
        {
            "all": [
                rule("close", "within_next", 5),
                rule("amount", "gt", {"ref": "vars.limit"}),
                rule("title", "contains", "renewal"),
            ]
        },
        record_type="deal",
        fields=REGISTRY,
    )
    limit = {"vars": {"limit": 1000}}
    # then each evaluation uses its own "now" and context
    assert evaluate(tree, RECORD, context=limit, now=NOW) is True
    assert evaluate(tree, RECORD, context=limit, now=NOW - dt.timedelta(days=1)) is False
    assert evaluate(tree, RECORD, context={"vars": {"limit": 5000}}, now=NOW) is False
    assert evaluate(tree, RECORD, context=limit, now=NOW) is True


def test_the_tree_has_a_json_schema_for_flow_definitions() -> None:
    schema = CONDITION_ADAPTER.json_schema(by_alias=True)
    assert sorted(schema["$defs"]) == ["AllGroup", "AnyGroup", "NotGroup", "Operator", "Rule"]
    assert schema["$defs"]["Rule"]["required"] == ["field", "op"]
    assert "field_type" not in schema["$defs"]["Rule"]["properties"]
