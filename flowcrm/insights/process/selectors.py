"""Read side of process analytics: one call per view, each reading the log once.

Every function takes a case notion name, a :class:`ProcessFilter` and the requesting user (whose
visibility limits the cases) and returns plain JSON-ready data, so the API and the pages show the
same numbers.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from flowcrm.core.errors import ValidationFailed
from flowcrm.insights.process import analysis
from flowcrm.insights.process.bottlenecks import findings, rank_bottlenecks
from flowcrm.insights.process.filters import ProcessFilter
from flowcrm.insights.process.funnel import cases_reaching, funnel
from flowcrm.insights.process.log import EventLog
from flowcrm.insights.process.notions import CaseNotion, get_case_notion, load_log

if TYPE_CHECKING:
    from flowcrm.accounts.models import User

DEFAULT_TOP_VARIANTS = 10


def process_log(
    notion_name: str, filters: ProcessFilter, user: User | None
) -> tuple[CaseNotion, EventLog]:
    notion = get_case_notion(notion_name)
    return notion, load_log(notion, filters, user)


def analyse_log(
    log: EventLog, *, top: int = DEFAULT_TOP_VARIANTS, case_label: str = "case"
) -> dict[str, Any]:
    """The notion-independent analyses of a log: DFG, variants, sojourn (what the CLI prints)."""
    edges = analysis.directly_follows(log)
    return {
        "cases": log.case_count,
        "events": log.event_count,
        "activities": list(log.activity_names),
        "dfg": [edge.as_dict() for edge in edges],
        "variants": analysis.variants(log, top=top).as_dict(),
        "sojourn": {name: s.as_dict() for name, s in analysis.sojourn_times(log).items()},
        "step_times": {
            name: {part: s.as_dict() for part, s in parts.items()}
            for name, parts in analysis.step_times(log).items()
        },
    }


def process_view(
    notion_name: str,
    filters: ProcessFilter,
    user: User | None,
    *,
    top: int = DEFAULT_TOP_VARIANTS,
) -> dict[str, Any]:
    """Every number of the process view: DFG, variants, sojourn, funnel, bottlenecks with
    findings, case durations and weekly throughput. Raises ValidationFailed for bad filters."""
    if top < 1 or top > 100:
        raise ValidationFailed({"top": "Must be between 1 and 100."})
    notion, log = process_log(notion_name, filters, user)
    result = analyse_log(log, top=top, case_label=notion.case_label)
    edges = analysis.directly_follows(log)
    sojourn = analysis.sojourn_times(log)
    closing = notion.closing_activities(filters)
    lost = notion.lost_activities(filters)
    ranking = rank_bottlenecks(log, sojourn, edges, lost)
    result["notion"] = notion.name
    result["funnel"] = [step.as_dict() for step in funnel_steps(notion, log, filters)]
    result["bottlenecks"] = [b.as_dict() for b in ranking]
    result["findings"] = findings(ranking, notion.case_label)
    result["durations"] = analysis.duration_distribution(log, closing_activities=closing)
    result["throughput"] = analysis.weekly_throughput(log, closing_activities=closing)
    result["node_counts"] = _node_counts(log)
    return result


def _node_counts(log: EventLog) -> dict[str, int]:
    import numpy as np

    counts = np.bincount(log.activities, minlength=len(log.activity_names))
    return {name: int(counts[code]) for code, name in enumerate(log.activity_names)}


def funnel_steps(notion: CaseNotion, log: EventLog, filters: ProcessFilter) -> list[Any]:
    stage_order = notion.stage_order(filters)
    return funnel(log, stage_order, _amounts(notion, log))


def _amounts(notion: CaseNotion, log: EventLog) -> dict[str, Decimal]:
    if notion.name != "deals" or log.case_count == 0:
        return {}
    from flowcrm.sales.models import Deal

    # One query; ids travel as a subquery-free IN list in chunks the databases accept.
    labels = [int(label) for label in log.case_labels]
    amounts: dict[str, Decimal] = {}
    for offset in range(0, len(labels), 20000):
        chunk = labels[offset : offset + 20000]
        rows = Deal.objects.filter(id__in=chunk).values_list("id", "amount")
        amounts.update({str(deal_id): amount for deal_id, amount in rows})
    return amounts


def funnel_cases(
    notion_name: str, filters: ProcessFilter, user: User | None, position: int
) -> tuple[str, list[str]]:
    """The stage name and case ids behind funnel bar ``position`` (422 if out of range)."""
    notion, log = process_log(notion_name, filters, user)
    order = notion.stage_order(filters)
    if not 0 <= position < len(order):
        raise ValidationFailed({"stage": f"Must be a funnel position from 0 to {len(order) - 1}."})
    return order[position], cases_reaching(log, order, position)
