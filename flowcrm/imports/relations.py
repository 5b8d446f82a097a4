"""Resolving relation columns (company, owner, pipeline/stage, contact, deal) in bulk per chunk.

Each resolver turns the names found in a chunk into ids with at most one query per relation,
then sets ``<relation>_id`` on every row or records an error for the column that named it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db.models import Q

from flowcrm.accounts.models import User
from flowcrm.activities.models import Activity
from flowcrm.contacts.models import Company, Contact
from flowcrm.imports.cleaning import CleanRow
from flowcrm.imports.normalise import normalise_domain, normalise_email
from flowcrm.sales.models import Deal, Pipeline, Stage


class RelationResolver:
    """Resolves the relations of a record type; users, pipelines and stages are loaded once."""

    def __init__(self, record_type: str, column_of: dict[str, str]) -> None:
        self.record_type = record_type
        self.column_of = column_of  # relation target -> file column (for error messages)
        self._users: dict[str, int] | None = None
        self._pipelines: dict[str, Pipeline] | None = None
        self._stages: dict[tuple[int, str], Stage] = {}
        self._default_pipeline: Pipeline | None = None

    def resolve(self, rows: Sequence[CleanRow]) -> None:
        live = [row for row in rows if not row.errors and row.relations]
        if not live:
            return
        if any("company" in row.relations for row in live):
            self._resolve_companies(live)
        if any("owner" in row.relations for row in live):
            users = self._user_ids()
            for row in live:
                self._lookup(row, "owner", lambda raw: users.get(raw.strip().lower()), "user")
        if self.record_type == "deal":
            self._resolve_stages(live)
        if any("contact" in row.relations for row in live):
            emails = {
                _safe_email(row.relations["contact"]) for row in live if "contact" in row.relations
            }
            found = dict(
                Contact.objects.filter(email__in=emails - {""}, merged_into__isnull=True)
                .values_list("email", "id")
                .iterator()
            )
            for row in live:
                self._lookup(row, "contact", lambda raw: found.get(_safe_email(raw)), "contact")
        if any("deal" in row.relations for row in live):
            ids = {row.relations["deal"].strip() for row in live if "deal" in row.relations}
            deals = dict(Deal.objects.filter(external_id__in=ids).values_list("external_id", "id"))
            for row in live:
                self._lookup(row, "deal", lambda raw: deals.get(raw.strip()), "deal")

    def _lookup(self, row: CleanRow, relation: str, find: Any, noun: str) -> None:
        raw = row.relations.get(relation)
        if raw is None:
            return
        found = find(raw)
        if found is None:
            row.errors[self.column_of.get(relation, relation)] = f"No {noun} {raw!r}."
        else:
            row.values[f"{relation}_id"] = found

    def _resolve_companies(self, rows: Sequence[CleanRow]) -> None:
        domains: dict[str, str] = {}
        names: set[str] = set()
        for row in rows:
            raw = row.relations.get("company")
            if raw is None:
                continue
            if "." in raw and " " not in raw.strip():
                try:
                    domains[raw] = normalise_domain(raw)
                    continue
                except ValueError:
                    pass
            names.add(raw.strip())
        by_domain: dict[str, int] = {}
        by_name: dict[str, int] = {}
        query = Q(name__in=names) | Q(domain__in=set(domains.values()))
        # Lowest id wins when two live companies share a name or domain: deterministic.
        for company_id, name, domain in (
            Company.objects.filter(query, merged_into__isnull=True)
            .order_by("-id")
            .values_list("id", "name", "domain")
        ):
            by_name[name] = company_id
            if domain:
                by_domain[domain] = company_id

        def find(raw: str) -> int | None:
            if raw in domains:
                return by_domain.get(domains[raw]) or by_name.get(raw.strip())
            return by_name.get(raw.strip())

        for row in rows:
            self._lookup(row, "company", find, "company")

    def _resolve_stages(self, rows: Sequence[CleanRow]) -> None:
        pipelines = self._pipeline_map()
        for row in rows:
            column = self.column_of.get("pipeline", "pipeline")
            raw_pipeline = row.relations.get("pipeline")
            if raw_pipeline is not None:
                pipeline = pipelines.get(raw_pipeline.strip().casefold())
                if pipeline is None:
                    row.errors[column] = f"No pipeline {raw_pipeline!r}."
                    continue
            else:
                pipeline = self._default_pipeline
                if pipeline is None:
                    row.errors[column] = "No pipeline given and no default pipeline exists."
                    continue
            row.values["pipeline_id"] = pipeline.pk
            raw_stage = row.relations.get("stage")
            stage = (
                self._stages.get((pipeline.pk, raw_stage.strip().casefold()))
                if raw_stage is not None
                else self._stages.get((pipeline.pk, ""))
            )
            if stage is None:
                stage_column = self.column_of.get("stage", "stage")
                row.errors[stage_column] = (
                    f"No stage {raw_stage!r} in pipeline {pipeline.name!r}."
                    if raw_stage is not None
                    else f"Pipeline {pipeline.name!r} has no stages."
                )
                continue
            row.values["stage_id"] = stage.pk
            row.values["_stage"] = stage

    def _pipeline_map(self) -> dict[str, Pipeline]:
        if self._pipelines is None:
            pipelines = list(Pipeline.objects.all())
            self._pipelines = {p.name.casefold(): p for p in pipelines}
            self._default_pipeline = next(
                (p for p in pipelines if p.is_default), pipelines[0] if pipelines else None
            )
            for stage in Stage.objects.select_related("pipeline").order_by(
                "pipeline_id", "-position", "-id"
            ):
                self._stages[(stage.pipeline_id, stage.name.casefold())] = stage
                if not stage.is_won and not stage.is_lost:
                    # after the reversed ordering, the first open stage is the default
                    self._stages[(stage.pipeline_id, "")] = stage
        return self._pipelines

    def _user_ids(self) -> dict[str, int]:
        if self._users is None:
            self._users = {
                email.lower(): pk
                for pk, email in User.objects.filter(is_active=True).values_list("id", "email")
            }
        return self._users


def _safe_email(raw: str) -> str:
    try:
        return normalise_email(raw)
    except ValueError:
        return ""


# Activity imports link to these; kept here so the relation list and the model agree.
RELATION_MODELS: dict[str, type[Any]] = {
    "company": Company,
    "contact": Contact,
    "deal": Deal,
    "activity": Activity,
}
