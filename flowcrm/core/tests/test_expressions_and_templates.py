"""CEL expressions and sandboxed templates: values, publish-time checks, exact error messages."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from flowcrm.core.errors import ValidationFailed
from flowcrm.core.expressions import (
    ExpressionError,
    compile_expression,
    evaluate_expression,
    referenced_names,
    unknown_names,
)
from flowcrm.core.templating import (
    TemplateRenderError,
    compile_template,
    render_template,
    template_fields,
    unknown_template_fields,
)

CONTEXT = {
    "contact": {"first_name": "Zoë", "score": 72, "tags": ["vip"], "custom": {"region": "Nord"}},
    "deal": {"amount": Decimal("1200.50"), "close": dt.date(2026, 6, 20)},
    "vars": {"threshold": 50},
}


def run(source: str, context: dict[str, object] = CONTEXT) -> object:
    return evaluate_expression(compile_expression(source, path="nodes[2].config.value"), context)


def test_expressions_compute_values_over_the_context() -> None:
    assert run("contact.score >= vars.threshold && 'vip' in contact.tags") is True
    assert run("deal.amount * 2.0") == 2401.0
    assert run("deal.close") == "2026-06-20"
    assert run("contact.first_name + ' (' + contact.custom.region + ')'") == "Zoë (Nord)"
    assert run("has(contact.custom.tier) ? contact.custom.tier : 'none'") == "none"
    assert run("[1, 2, 3].filter(n, n > vars.threshold / 25)") == [3]


def test_a_syntax_error_is_refused_at_compile_time_naming_the_path() -> None:
    with pytest.raises(ValidationFailed) as refused:
        compile_expression("contact.score >", path="nodes[2].config.value")
    assert refused.value.errors == {
        "nodes[2].config.value": "syntax error at line 1, column 16: mismatched input '<EOF>' "
        "expecting {'[', '{', '(', '.', '-', '!', 'true', 'false', 'null', NUM_FLOAT, NUM_INT, "
        "NUM_UINT, STRING, BYTES, IDENTIFIER}"
    }
    with pytest.raises(ValidationFailed) as empty:
        compile_expression("  ", path="nodes[2].config.value")
    assert empty.value.errors == {"nodes[2].config.value": "expected an expression"}


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("contact.frist_name", "no key 'frist_name' in the context"),
        ("missing + 1", "Undefined variable or function: 'missing'"),
        ("contact.score / 0", "division by zero"),
        ("contact.first_name + 1", "Unsupported operation: string + int"),
    ],
)
def test_runtime_failures_raise_an_expression_error_with_the_path(
    source: str, message: str
) -> None:
    with pytest.raises(ExpressionError) as failed:
        run(source)
    assert (failed.value.path, failed.value.message) == ("nodes[2].config.value", message)
    assert str(failed.value) == f"nodes[2].config.value: {message}"


def test_referenced_names_leave_out_names_bound_by_macros() -> None:
    compiled = compile_expression(
        "contact.score > vars.threshold && items.exists(item, item > limit)", path="x"
    )
    assert referenced_names(compiled) == {"contact", "vars", "items", "limit"}
    assert unknown_names(compiled, ["contact", "vars", "trigger", "steps"]) == ["items", "limit"]


def render(source: str, *, html: bool = False) -> str:
    compiled = compile_template(source, path="nodes[3].config.subject", html=html)
    return render_template(compiled, CONTEXT)


def test_templates_render_text_unescaped_and_html_escaped() -> None:
    context_value = "Zoë"
    assert render("Hi {{ contact.first_name }} & co") == f"Hi {context_value} & co"
    assert render("{% if contact.score > 50 %}hot{% else %}cold{% endif %}") == "hot"
    compiled = compile_template("<p>{{ name }}</p>", path="body", html=True)
    assert render_template(compiled, {"name": "<b>A&B</b>"}) == "<p>&lt;b&gt;A&amp;B&lt;/b&gt;</p>"
    assert render_template(compile_template("{{ name }}", path="t"), {"name": "<b>"}) == "<b>"


@pytest.mark.parametrize(
    ("source", "message"),
    [
        (
            "Hi {{ contact.frist_name }}",
            "no field 'frist_name' (available: custom, first_name, score, tags)",
        ),
        ("{{ nobody }}", "'nobody' is undefined"),
        (
            "{{ ''.__class__ }}",
            "not allowed: access to attribute '__class__' of 'str' object is unsafe.",
        ),
        ("{{ 'x' * 100000 }}", "not allowed: repetition too large"),
        ("{{ 9 ** 999 }}", "not allowed: exponent too large"),
        ("{{ contact.score / 0 }}", "division by zero"),
    ],
)
def test_template_failures_name_the_path_and_reason(source: str, message: str) -> None:
    with pytest.raises(TemplateRenderError) as failed:
        render(source)
    assert (failed.value.path, failed.value.message) == ("nodes[3].config.subject", message)


def test_a_template_syntax_error_is_refused_at_compile_time() -> None:
    with pytest.raises(ValidationFailed) as refused:
        compile_template("Hi {{ contact.first_name ", path="nodes[3].config.subject")
    assert refused.value.errors == {
        "nodes[3].config.subject": "syntax error on line 1: unexpected end of template, "
        "expected 'end of print statement'."
    }


def test_template_fields_lists_dotted_names_the_template_reads() -> None:
    source = (
        "Hi {{ contact.first_name | title }} from {{ contact['custom']['region'] }}"
        "{% for deal in deals %}{{ deal.title }}{% endfor %}{% set total = 2 %}{{ total }}"
        "{{ vars.note.upper() }}{{ steps[key].id }}"
    )
    assert template_fields(source) == {
        "contact.first_name",
        "contact.custom.region",
        "deals",
        "vars.note",
        "steps",
        "key",
    }


def test_unknown_template_fields_are_found_for_publish_time_messages() -> None:
    source = "{{ contact.frist_name }} {{ contact.company.name }} {{ vars.x.y }} {{ contact }}"
    known = ["contact.first_name", "contact.company.name"]
    assert unknown_template_fields(source, known_paths=known, open_roots=["vars"]) == [
        "contact.frist_name"
    ]
