"""The import engine: plan a chunk of rows against the database, then write it set-based.

For each chunk: clean every row, resolve relations in bulk, look up the records the match keys
point at (one query), decide per row create / update / unchanged / skipped / error, and write
the creates, updates, their events, the row errors and the chunk's completion in ONE
transaction. A chunk that raises leaves nothing behind; a finished chunk is never redone.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import islice
from typing import Any

from django.db import models, transaction
from django.utils import timezone

from flowcrm.accounts.models import User
from flowcrm.core.actors import Actor
from flowcrm.core.permissions import sees_all
from flowcrm.imports.cleaning import CleanRow, RowCleaner
from flowcrm.imports.fields import RecordSpec
from flowcrm.imports.layout import TableLayout
from flowcrm.imports.mapping import ImportOptions
from flowcrm.imports.reading import SourceRow
from flowcrm.imports.relations import RelationResolver
from flowcrm.imports.writing import append_events, insert_rows, reserve_ids, update_rows

PREVIEW_ROWS = 10
# Fields an import never changes on an existing record (stage moves keep their own history).
_NOT_UPDATED = frozenset({"pipeline_id", "stage_id"})
_EMPTY: tuple[object, ...] = (None, "", [], {})


def jsonable(value: Any) -> Any:
    """A JSON-ready value, fast for the common str/int/bool/None case."""
    kind = type(value)
    if kind is str or kind is int or kind is bool or value is None or kind is float:
        return value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return str(value)


@dataclass
class ChunkOutcome:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    error_rows: list[CleanRow] = field(default_factory=list)
    preview: list[dict[str, Any]] = field(default_factory=list)

    @property
    def errors(self) -> int:
        return len(self.error_rows)


@dataclass
class _Record:
    """A record being written by this chunk: a new one, or an existing one with its before."""

    state: dict[str, Any]
    before: dict[str, Any] | None  # None for a record this chunk creates
    dirty: bool = False


MergeHook = Callable[[list[int]], dict[str, Any]]


class ChunkProcessor:
    """Plans and writes chunks of one import. Not thread-safe; one per run."""

    def __init__(
        self,
        *,
        spec: RecordSpec,
        headers: list[str],
        options: ImportOptions,
        actor: Actor,
        user: User | None,
        dry_run: bool = False,
        merge_hook: MergeHook | None = None,
    ) -> None:
        self.spec = spec
        self.options = options
        self.actor = actor
        self.user = user
        self.dry_run = dry_run
        self.merge_hook = merge_hook
        self.cleaner = RowCleaner(spec, headers, options)
        column_of = {target: header for _, header, target, _, _ in self.cleaner.columns}
        self.column_of = column_of
        self.resolver = RelationResolver(spec.record_type, column_of)
        self.layout = TableLayout(spec.model)
        self.has_tombstones = "merged_into_id" in self.layout.attnames
        self.match = list(options.match)
        self._single_key = (
            self.match[0]
            if len(self.match) == 1 and not self.match[0].startswith("custom.")
            else None
        )
        self.mapped = self._mapped_attnames()
        self.update_columns = [
            a for a in self.layout.attnames if a in self.mapped and a not in _NOT_UPDATED
        ]
        if "custom" in self.mapped and "custom" not in self.update_columns:
            self.update_columns.append("custom")
        self.update_columns.append("updated_at")
        self.unique_checks = [
            key for key in spec.unique_keys if key in self.mapped and self.match != [key]
        ]
        self.visible_owner_ids: set[int | None] | None = None
        if user is not None and not sees_all(user):
            team_ids = (
                set(User.objects.filter(team_id=user.team_id).values_list("id", flat=True))
                if user.team_id
                else set()
            )
            self.visible_owner_ids = {None, user.pk, *team_ids}
        self.dry_keys: set[tuple[Any, ...]] = set()

    # -- planning ---------------------------------------------------------------------------

    def _mapped_attnames(self) -> set[str]:
        targets = {t for _, _, t, _, _ in self.cleaner.columns} | set(self.options.defaults)
        attnames: set[str] = set()
        for target in targets:
            if target == "full_name":
                attnames |= {"first_name", "last_name"}
            elif target.startswith("custom."):
                attnames.add("custom")
            elif target in self.spec.relations:
                attnames.add(f"{target}_id")
            else:
                attnames.add(target)
        return attnames

    def _key(self, values: dict[str, Any], custom: dict[str, Any]) -> tuple[Any, ...] | None:
        if self._single_key is not None:  # the common case (e-mail), kept cheap
            value = values.get(self._single_key)
            return None if value is None or value == "" else (value,)
        key = tuple(
            custom.get(k[7:]) if k.startswith("custom.") else values.get(k) for k in self.match
        )
        return None if any(part in _EMPTY for part in key) else key

    def _lookup(self, rows: list[CleanRow]) -> dict[tuple[Any, ...], list[dict[str, Any]]]:
        if not self.match:
            return {}
        first = self.match[0]
        wanted = set()
        for row in rows:
            key = self._key(row.values, row.custom)
            if key is not None:
                wanted.add(key[0])
        if not wanted:
            return {}
        lookup = f"custom__{first[7:]}__in" if first.startswith("custom.") else f"{first}__in"
        queryset = self.spec.model._default_manager.filter(**{lookup: list(wanted)})
        if self.has_tombstones:
            queryset = queryset.filter(merged_into__isnull=True)
        found: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
        for record in queryset.order_by("-updated_at", "-id").values(*self.layout.attnames):
            key = self._key(record, record.get("custom") or {})
            if key is not None:
                found.setdefault(key, []).append(record)
        return found

    def _unique_owners(self, rows: list[CleanRow]) -> dict[str, dict[Any, int]]:
        owners: dict[str, dict[Any, int]] = {}
        for unique in self.unique_checks:
            values = {row.values[unique] for row in rows if row.values.get(unique)}
            queryset = self.spec.model._default_manager.filter(**{f"{unique}__in": values})
            if self.has_tombstones:
                queryset = queryset.filter(merged_into__isnull=True)
            owners[unique] = dict(queryset.values_list(unique, "id")) if values else {}
        return owners

    def process(self, rows: list[SourceRow], *, preview: int = 0) -> ChunkOutcome:
        """Plan ``rows`` and (unless dry run) write them. Call inside a transaction."""
        outcome = ChunkOutcome()
        cleaned = [self.cleaner.clean(row.line, row.cells) for row in rows]
        self.resolver.resolve(cleaned)
        valid = [row for row in cleaned if not row.errors]
        existing = self._lookup(valid)
        unique_owner = self._unique_owners(valid)
        claimed: dict[tuple[str, Any], int] = {}  # (field, value) -> id(record state)
        pending: dict[tuple[Any, ...], _Record] = {}
        by_id: dict[int, _Record] = {}
        creates: list[_Record] = []
        now = timezone.now()
        for index, row in enumerate(cleaned):
            action = self._plan_row(
                row, existing, pending, by_id, creates, unique_owner, claimed, now
            )
            if row.errors:
                outcome.error_rows.append(row)
            else:
                setattr(outcome, action, getattr(outcome, action) + 1)
            if index < preview:
                outcome.preview.append(self._preview(row, action))
        if not self.dry_run:
            self._write(creates, [r for r in by_id.values() if r.dirty], now)
        return outcome

    def _plan_row(
        self,
        row: CleanRow,
        existing: dict[tuple[Any, ...], list[dict[str, Any]]],
        pending: dict[tuple[Any, ...], _Record],
        by_id: dict[int, _Record],
        creates: list[_Record],
        unique_owner: dict[str, dict[Any, int]],
        claimed: dict[tuple[str, Any], int],
        now: dt.datetime,
    ) -> str:
        if row.errors:
            return "error"
        stage = row.values.pop("_stage", None)
        key = self._key(row.values, row.custom) if self.match else None
        if self.match and key is None and self.options.policy == "update":
            row.errors[self.column_of.get(self.match[0], self.match[0])] = (
                "No value for the match key; an update-only import needs one."
            )
            return "error"
        record: _Record | None = pending.get(key) if key is not None else None
        if record is None and key is not None:
            matches = existing.get(key, [])
            if len(matches) > 1:
                if not self.options.merge_matches or self.merge_hook is None:
                    ids = ", ".join(str(m["id"]) for m in matches[:5])
                    row.errors["(row)"] = (
                        f"matches {len(matches)} existing records (ids {ids}); choose a more"
                        " specific key or enable merging into the matched record."
                    )
                    return "error"
                matches = [self._merged(matches)]
            if matches:
                record = by_id.get(matches[0]["id"])
                if record is None:
                    record = _Record(state=matches[0], before=dict(matches[0]))
                    by_id[record.state["id"]] = record
            elif self.dry_run and key in self.dry_keys:
                return "updated" if self.options.policy != "create" else "skipped"
        if record is None:
            if self.options.policy == "update":
                return "skipped"
            return self._plan_create(row, key, stage, pending, creates, unique_owner, claimed, now)
        if self.options.policy == "create":
            return "skipped"
        if self.visible_owner_ids is not None and (
            record.state.get("owner_id") not in self.visible_owner_ids
        ):
            row.errors["(row)"] = "matches a record you are not allowed to change."
            return "error"
        if not self._claim_unique(row, record, unique_owner, claimed):
            return "error"
        changed = self._apply(record.state, row, updating=True)
        if not changed:
            return "unchanged"
        record.state["updated_at"] = now
        record.dirty = True
        if key is not None:
            pending[key] = record
        return "updated"

    def _plan_create(
        self,
        row: CleanRow,
        key: tuple[Any, ...] | None,
        stage: Any,
        pending: dict[tuple[Any, ...], _Record],
        creates: list[_Record],
        unique_owner: dict[str, dict[Any, int]],
        claimed: dict[tuple[str, Any], int],
        now: dt.datetime,
    ) -> str:
        missing = self._missing_required(row)
        if missing:
            row.errors["(row)"] = missing
            return "error"
        state = self.layout.defaults(now)
        record = _Record(state=state, before=None, dirty=True)
        if not self._claim_unique(row, record, unique_owner, claimed):
            return "error"
        self._apply(state, row, updating=False)
        if self.spec.record_type == "deal" and stage is not None:
            state["status"] = "won" if stage.is_won else "lost" if stage.is_lost else "open"
            state["_stage_name"] = stage.name
            if stage.is_won or stage.is_lost:
                state["closed_at"] = now
            if "currency" not in row.values:
                state["currency"] = stage.pipeline.currency
        creates.append(record)
        if key is not None:
            pending[key] = record
            if self.dry_run:
                self.dry_keys.add(key)
        return "created"

    def _missing_required(self, row: CleanRow) -> str:
        if self.spec.record_type == "contact":
            values = row.values
            if not (values.get("email") or values.get("first_name") or values.get("last_name")):
                return "a contact needs an e-mail address or a name."
            return ""
        absent = [name for name in self.spec.required if row.values.get(name) in _EMPTY]
        if absent:
            return f"{', '.join(absent)} is required for a new {self.spec.record_type}."
        return ""

    def _claim_unique(
        self,
        row: CleanRow,
        record: _Record,
        unique_owner: dict[str, dict[Any, int]],
        claimed: dict[tuple[str, Any], int],
    ) -> bool:
        for unique in self.unique_checks:
            value = row.values.get(unique)
            if not value or record.state.get(unique) == value:
                continue
            owner_id = unique_owner.get(unique, {}).get(value)
            holder = claimed.get((unique, value))
            if (owner_id is not None and owner_id != record.state.get("id")) or (
                holder is not None and holder != id(record)
            ):
                who = f"record {owner_id}" if owner_id is not None else "an earlier row"
                row.errors[self.column_of.get(unique, unique)] = (
                    f"{value!r} already belongs to {who}; {unique} must be unique."
                )
                return False
        for unique in self.unique_checks:
            if row.values.get(unique):
                claimed[(unique, row.values[unique])] = id(record)
        return True

    def _apply(self, state: dict[str, Any], row: CleanRow, *, updating: bool) -> bool:
        """Copy the row's values into ``state``; True when anything changed.

        Updating with "fill empty only" keeps every non-empty stored value.
        """
        fill_empty = updating and self.options.fill_empty
        changed = False
        for name, value in row.values.items():
            if updating and name in _NOT_UPDATED:
                continue
            current = state.get(name)
            if current == value or (fill_empty and current not in _EMPTY):
                continue
            state[name] = value
            changed = True
        if row.custom:
            custom = dict(state.get("custom") or {})
            for name, value in row.custom.items():
                current = custom.get(name)
                if current == value or (fill_empty and current not in _EMPTY):
                    continue
                custom[name] = value
                changed = True
            state["custom"] = custom
        return changed

    def _merged(self, matches: list[dict[str, Any]]) -> dict[str, Any]:
        assert self.merge_hook is not None
        if self.dry_run:
            return matches[0]  # the most recently updated one survives
        return self.merge_hook([m["id"] for m in matches])

    def _preview(self, row: CleanRow, action: str) -> dict[str, Any]:
        values = {k: jsonable(v) for k, v in row.values.items() if not k.startswith("_")}
        values.update({f"custom.{k}": jsonable(v) for k, v in row.custom.items()})
        return {"line": row.line, "action": action, "values": values, "errors": row.errors}

    # -- writing ----------------------------------------------------------------------------

    def _write(self, creates: list[_Record], updates: list[_Record], now: dt.datetime) -> None:
        events: list[tuple[str, str, int, dict[str, Any], dict[str, Any]]] = []
        subject = self.spec.record_type
        ids = reserve_ids(self.spec.model, len(creates))
        layout = self.layout
        for record, new_id in zip(creates, ids, strict=True):
            record.state["id"] = new_id
        insert_rows(self.spec.model, layout.columns, [layout.db_row(r.state) for r in creates])
        for record in creates:
            events.append(
                (
                    self.spec.created_event,
                    subject,
                    record.state["id"],
                    layout.created_changes(record.state),
                    self._created_data(record.state),
                )
            )
        columns = [layout.column_of[a] for a in self.update_columns]
        update_rows(
            self.spec.model,
            columns,
            [layout.update_row(r.state, self.update_columns) for r in updates],
        )
        for record in updates:
            assert record.before is not None
            changes = layout.changes(record.before, record.state, self.update_columns)
            events.append((self.spec.updated_event, subject, record.state["id"], changes, {}))
        append_events(events, actor=self.actor, occurred_at=now, notify=self.options.notify_flows)

    def _created_data(self, state: dict[str, Any]) -> dict[str, Any]:
        if self.spec.record_type == "deal":
            return {
                "pipeline_id": state["pipeline_id"],
                "stage_id": state["stage_id"],
                "stage": state.get("_stage_name", ""),
                "status": state["status"],
            }
        if self.spec.record_type == "activity":
            return {
                key: state.get(key)
                for key in ("kind", "direction", "contact_id", "company_id", "deal_id")
            }
        return {}


def chunked(rows: Iterable[SourceRow], size: int) -> Iterator[list[SourceRow]]:
    iterator = iter(rows)
    while chunk := list(islice(iterator, size)):
        yield chunk


def in_transaction[T](work: Callable[[], T]) -> T:
    with transaction.atomic():
        return work()


def model_label(model: type[models.Model]) -> str:
    return str(model._meta.verbose_name)
