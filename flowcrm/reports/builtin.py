"""The built-in sales, marketing and financial reports, over a date window.

Each is a list of sections computed with aggregate queries (the report engine, or a few
purpose-written aggregates where a KPI is a ratio of two aggregates).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from django.db.models import Avg, Count, DurationField, ExpressionWrapper, F, Min, Q, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone

from flowcrm.accounts.models import User
from flowcrm.contacts.models import Contact
from flowcrm.core.errors import ValidationFailed
from flowcrm.core.models import Event
from flowcrm.core.permissions import scope
from flowcrm.reports.engine import run_report
from flowcrm.reports.sections import Section, from_result
from flowcrm.reports.spec import parse_spec
from flowcrm.sales.models import Deal, Stage


def _window_condition(field: str, start: dt.date, end: dt.date) -> dict[str, Any]:
    return {"field": field, "op": "between", "value": [start.isoformat(), end.isoformat()]}


def _spec_section(title: str, user: User, spec: dict[str, Any]) -> Section:
    parsed, fields = parse_spec(spec)
    return from_result(title, run_report(parsed, fields, user))


def sales(user: User, start: dt.date, end: dt.date) -> list[Section]:
    won = {
        "all": [
            {"field": "deal.status", "op": "eq", "value": "won"},
            _window_condition("deal.closed_at", start, end),
        ]
    }
    sections = [
        _spec_section(
            "Won deals by month",
            user,
            {
                "record_type": "deal",
                "condition": won,
                "chart": "bar",
                "group_by": {"field": "deal.closed_at", "bucket": "month"},
                "measures": [{"op": "sum", "field": "deal.amount"}, {"op": "count"}],
            },
        ),
        _spec_section(
            "Won deals by owner",
            user,
            {
                "record_type": "deal",
                "condition": won,
                "chart": "bar",
                "group_by": {"field": "deal.owner.email"},
                "measures": [{"op": "sum", "field": "deal.amount"}, {"op": "count"}],
            },
        ),
        _spec_section(
            "Average deal size (won)",
            user,
            {
                "record_type": "deal",
                "condition": won,
                "chart": "table",
                "measures": [
                    {"op": "avg", "field": "deal.amount"},
                    {"op": "median", "field": "deal.amount"},
                ],
            },
        ),
        _spec_section(
            "Open pipeline by stage",
            user,
            {
                "record_type": "deal",
                "chart": "funnel",
                "condition": {"field": "deal.status", "op": "eq", "value": "open"},
                "group_by": {"field": "deal.stage.name"},
                "measures": [{"op": "count"}, {"op": "sum", "field": "deal.amount"}],
            },
        ),
        _win_rate(user, start, end),
        _sales_cycle(user, start, end),
        _stalled(user),
    ]
    return sections


def _closed_in(user: User, start: dt.date, end: dt.date) -> Any:
    return scope(Deal.objects.all(), user).filter(
        closed_at__date__gte=start, closed_at__date__lte=end
    )


def _win_rate(user: User, start: dt.date, end: dt.date) -> Section:
    rows = (
        _closed_in(user, start, end)
        .annotate(month=TruncMonth("closed_at", tzinfo=dt.UTC))
        .values("month")
        .annotate(
            won=Count("pk", filter=Q(status="won")), lost=Count("pk", filter=Q(status="lost"))
        )
        .order_by("month")
    )
    table = [
        [r["month"].date(), round(r["won"] / (r["won"] + r["lost"]) * 100, 1), r["won"], r["lost"]]
        for r in rows
        if r["won"] + r["lost"]
    ]
    return Section(
        "Win rate by month (%)", ["Month", "Win rate %", "Won", "Lost"], table, chart="line"
    )


def _sales_cycle(user: User, start: dt.date, end: dt.date) -> Section:
    cycle = ExpressionWrapper(F("closed_at") - F("created_at"), output_field=DurationField())
    result = (
        _closed_in(user, start, end)
        .filter(status="won")
        .aggregate(average=Avg(cycle), deals=Count("pk"))
    )
    average = result["average"]
    days = round(average.total_seconds() / 86400, 1) if average is not None else None
    return Section(
        "Average sales cycle (won deals)",
        ["Won deals", "Average days from creation to win"],
        [[result["deals"], days]],
    )


def _stalled(user: User) -> Section:
    now = timezone.now()
    stalled = Q(pk__in=[])
    for stage in Stage.objects.filter(rotting_days__isnull=False, is_won=False, is_lost=False):
        stalled |= Q(
            stage=stage, stage_entered_at__lt=now - dt.timedelta(days=stage.rotting_days or 0)
        )
    deals = (
        scope(Deal.objects.filter(status="open"), user)
        .filter(stalled)
        .select_related("stage", "owner")
        .order_by("stage_entered_at")[:50]
    )
    rows = [
        [
            d.title,
            d.stage.name,
            d.owner.email if d.owner else "",
            (now - d.stage_entered_at).days,
            float(d.amount),
        ]
        for d in deals
    ]
    return Section(
        "Stalled deals (longer in their stage than its rotting days)",
        ["Deal", "Stage", "Owner", "Days in stage", "Amount"],
        rows,
        links=[f"/deals/{d.pk}/" for d in deals],
    )


def marketing(user: User, start: dt.date, end: dt.date) -> list[Section]:
    created = _window_condition("contact.created_at", start, end)
    sections = [
        _spec_section(
            "New leads by source",
            user,
            {
                "record_type": "contact",
                "condition": created,
                "chart": "bar",
                "group_by": {"field": "contact.source"},
                "measures": [{"op": "count"}],
            },
        ),
        _spec_section(
            "New leads by month",
            user,
            {
                "record_type": "contact",
                "condition": created,
                "chart": "line",
                "group_by": {"field": "contact.created_at", "bucket": "month"},
                "measures": [{"op": "count"}],
            },
        ),
        _conversion(user, start, end),
        _mql_to_sql(user, start, end),
    ]
    return sections


def _conversion(user: User, start: dt.date, end: dt.date) -> Section:
    contacts = scope(Contact.objects.filter(merged_into__isnull=True), user).filter(
        created_at__date__gte=start, created_at__date__lte=end
    )
    result = contacts.aggregate(
        total=Count("pk"),
        customers=Count("pk", filter=Q(lifecycle_stage__in=["customer", "evangelist"])),
    )
    rate = round(result["customers"] / result["total"] * 100, 1) if result["total"] else None
    return Section(
        "Lead-to-customer conversion (contacts created in the window)",
        ["Contacts", "Customers now", "Conversion %"],
        [[result["total"], result["customers"], rate]],
        note="Cost per lead appears once campaigns record their cost.",
    )


def _mql_to_sql(user: User, start: dt.date, end: dt.date) -> Section:
    visible = scope(Contact.objects.all(), user).values("pk")
    reached = Event.objects.filter(
        subject_type="contact",
        subject_id__in=visible,
        type__in=("contact.created", "contact.updated"),
        occurred_at__date__gte=start,
        occurred_at__date__lte=end,
    )
    mql = set(
        reached.filter(changes__lifecycle_stage__after="mql").values_list("subject_id", flat=True)
    )
    later = ("sql", "opportunity", "customer", "evangelist")
    sql = (
        set(
            reached.filter(
                changes__lifecycle_stage__after__in=later, subject_id__in=list(mql)
            ).values_list("subject_id", flat=True)
        )
        if mql
        else set()
    )
    rate = round(len(sql) / len(mql) * 100, 1) if mql else None
    return Section(
        "MQL to SQL (contacts that became MQL in the window)",
        ["MQLs", "Became SQL or later", "Rate %"],
        [[len(mql), len(sql), rate]],
    )


def financial(user: User, start: dt.date, end: dt.date) -> list[Section]:
    won = {
        "all": [
            {"field": "deal.status", "op": "eq", "value": "won"},
            _window_condition("deal.closed_at", start, end),
        ]
    }
    sections = [
        _spec_section(
            "Revenue by month (won deals)",
            user,
            {
                "record_type": "deal",
                "condition": won,
                "chart": "bar",
                "group_by": {"field": "deal.closed_at", "bucket": "month"},
                "measures": [{"op": "sum", "field": "deal.amount"}],
            },
        ),
        _revenue_per_customer(user, start, end),
        _retention(user, start, end),
    ]
    return sections


def _revenue_per_customer(user: User, start: dt.date, end: dt.date) -> Section:
    result = (
        _closed_in(user, start, end)
        .filter(status="won", company__isnull=False)
        .aggregate(revenue=Sum("amount"), customers=Count("company", distinct=True))
    )
    revenue = float(result["revenue"] or 0)
    per = round(revenue / result["customers"], 2) if result["customers"] else None
    return Section(
        "Revenue per customer",
        ["Revenue", "Customers (companies)", "Revenue per customer"],
        [[revenue, result["customers"], per]],
    )


def _retention(user: User, start: dt.date, end: dt.date, months: int = 6) -> Section:
    """Cohorts by month of a company's first won deal: the share buying again k months later."""
    won = scope(Deal.objects.filter(status="won", company__isnull=False), user)
    first = dict(
        won.values("company").annotate(first=Min("closed_at")).values_list("company", "first")
    )
    active = (
        won.annotate(month=TruncMonth("closed_at", tzinfo=dt.UTC))
        .values_list("company", "month")
        .distinct()
    )
    by_company: dict[int, set[tuple[int, int]]] = defaultdict(set)
    for company, month in active:
        by_company[company].add((month.year, month.month))
    cohorts: dict[tuple[int, int], list[int]] = defaultdict(list)
    for company, first_at in first.items():
        if first_at is not None and start <= first_at.date() <= end:
            cohorts[(first_at.year, first_at.month)].append(company)
    rows = []
    for (year, month), companies in sorted(cohorts.items()):
        row: list[Any] = [f"{year}-{month:02d}", len(companies)]
        for k in range(1, months + 1):
            target = (year + (month - 1 + k) // 12, (month - 1 + k) % 12 + 1)
            again = sum(1 for c in companies if target in by_company[c])
            row.append(round(again / len(companies) * 100, 1))
        rows.append(row)
    return Section(
        "Retention by cohort of first purchase month (% buying again k months later)",
        ["Cohort", "Customers", *[f"+{k} mo" for k in range(1, months + 1)]],
        rows,
        note="Churn of a cohort in month k is 100 minus its retention.",
    )


BUILTIN: dict[str, tuple[str, Callable[[User, dt.date, dt.date], list[Section]]]] = {
    "sales": ("Sales", sales),
    "marketing": ("Marketing", marketing),
    "financial": ("Financial", financial),
}


def window(start: str | None, end: str | None) -> tuple[dt.date, dt.date]:
    today = timezone.now().date()
    try:
        end_date = dt.date.fromisoformat(end) if end else today
    except ValueError:
        raise ValidationFailed({"to": "Use a date as YYYY-MM-DD."}) from None
    try:
        start_date = dt.date.fromisoformat(start) if start else end_date - dt.timedelta(days=365)
    except ValueError:
        raise ValidationFailed({"from": "Use a date as YYYY-MM-DD."}) from None
    if start_date > end_date:
        raise ValidationFailed({"from": "The window starts after it ends."})
    return start_date, end_date
