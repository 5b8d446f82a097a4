"""The filter every process view accepts, validated before any query runs."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError, ValidationInfo, field_validator

from flowcrm.core.errors import ValidationFailed


class ProcessFilter(BaseModel):
    """Which cases a process view covers.

    ``since``/``until`` keep the cases that *started* (their first event) in ``[since, until)``;
    ``pipeline`` keeps the events recorded in that pipeline; ``owner``/``team`` keep cases whose
    record is owned by that user / a member of that team; ``condition`` is a condition tree over
    the case record (the same tree the flows and segments use); ``log`` picks an imported log and
    ``flow`` a flow whose runs are the cases. Unknown keys are refused.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    since: dt.datetime | None = None
    until: dt.datetime | None = None
    pipeline: int | None = None
    owner: int | None = None
    team: int | None = None
    condition: dict[str, Any] | None = None
    log: int | None = None  # an imported log (the "imported" case notion)
    flow: int | None = None  # a flow (the "flow_runs" case notion)

    @field_validator("since", "until")
    @classmethod
    def _aware(cls, value: dt.datetime | None) -> dt.datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value

    @field_validator("until")
    @classmethod
    def _window_in_order(
        cls, value: dt.datetime | None, info: ValidationInfo
    ) -> dt.datetime | None:
        since = info.data.get("since")
        if value is not None and since is not None and since >= value:
            raise ValueError("Must be later than since (the window is empty).")
        return value


FILTER_FIELDS = frozenset(ProcessFilter.model_fields)


def parse_filters(
    params: Mapping[str, str], *, allowed_extra: frozenset[str] = frozenset()
) -> ProcessFilter:
    """A :class:`ProcessFilter` from query-string values; ValidationFailed names each bad field.

    ``condition`` is JSON text. Keys outside the filter fields and ``allowed_extra`` are refused
    (a misspelt filter must not silently widen the view).
    """
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}
    for key, raw in params.items():
        if key in allowed_extra:
            continue
        if key not in FILTER_FIELDS:
            errors[key] = "Unknown filter."
            continue
        if raw == "":
            continue
        if key == "condition":
            try:
                values[key] = json.loads(raw)
            except ValueError:
                errors[key] = "Must be a JSON condition tree."
                continue
            if not isinstance(values[key], dict):
                errors[key] = "Must be a JSON object (a condition tree)."
            continue
        values[key] = raw
    if errors:
        raise ValidationFailed(errors)
    try:
        return ProcessFilter.model_validate(values)
    except ValidationError as error:
        raise ValidationFailed(_pydantic_errors(error)) from None


def _pydantic_errors(error: ValidationError) -> dict[str, str]:
    messages: dict[str, str] = {}
    for item in error.errors():
        field = ".".join(str(part) for part in item["loc"]) or "__all__"
        message = str(item["msg"]).removeprefix("Value error, ")
        messages[field] = message
    return messages
