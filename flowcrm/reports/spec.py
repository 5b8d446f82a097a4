"""What a report asks for: a record type, a filter, a grouping, measures and a chart type.

Specs are data (saved as JSON), validated with Pydantic and against the field registry of the
condition trees, so the report builder, saved reports and built-in reports share one engine.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from flowcrm.core.conditions import FieldInfo, FieldType, fields_for, parse_condition
from flowcrm.core.errors import ValidationFailed

RecordType = Literal["contact", "company", "deal", "task", "activity"]
Bucket = Literal["day", "week", "month", "quarter", "year"]
MeasureOp = Literal["count", "sum", "avg", "min", "max", "median"]
ChartType = Literal["bar", "line", "funnel", "table"]
NUMERIC = {FieldType.NUMBER}
GROUPABLE = {
    FieldType.TEXT,
    FieldType.CHOICE,
    FieldType.BOOLEAN,
    FieldType.NUMBER,
    FieldType.DATE,
    FieldType.DATETIME,
    FieldType.RELATION,
}
DATES = {FieldType.DATE, FieldType.DATETIME}


class Grouping(BaseModel):
    model_config = ConfigDict(extra="forbid")
    field: str
    bucket: Bucket | None = None


class Measure(BaseModel):
    model_config = ConfigDict(extra="forbid")
    op: MeasureOp
    field: str | None = None

    @model_validator(mode="after")
    def _field_needed(self) -> Measure:
        if self.op != "count" and not self.field:
            raise ValueError(f"'{self.op}' needs a number field")
        return self

    @property
    def key(self) -> str:
        return "count" if self.op == "count" and not self.field else f"{self.op}_{self.field}"


class ReportSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    record_type: RecordType
    condition: dict[str, Any] | None = None
    group_by: Grouping | None = None
    measures: list[Measure] = Field(
        default_factory=lambda: [Measure(op="count")], min_length=1, max_length=6
    )
    chart: ChartType = "bar"
    limit: int = Field(50, ge=1, le=500)


def parse_spec(data: Any) -> tuple[ReportSpec, dict[str, FieldInfo]]:
    """A validated spec and the field registry of its record type.

    Raises ValidationFailed with paths such as ``group_by.field`` or ``measures[0].field``.
    """
    try:
        spec = ReportSpec.model_validate(data)
    except ValidationError as error:
        raise ValidationFailed(
            {".".join(str(p) for p in e["loc"]) or "spec": e["msg"] for e in error.errors()}
        ) from None
    fields = fields_for(spec.record_type)
    errors: dict[str, str] = {}
    if spec.condition is not None:
        try:
            parse_condition(spec.condition, record_type=spec.record_type, path="condition")
        except ValidationFailed as error:
            errors.update(error.errors)
    if spec.group_by is not None:
        info = fields.get(_qualified(spec.record_type, spec.group_by.field))
        if info is None or info.type not in GROUPABLE or info.is_tags:
            errors["group_by.field"] = f"Cannot group by {spec.group_by.field!r}."
        elif spec.group_by.bucket and info.type not in DATES:
            errors["group_by.bucket"] = "Date buckets need a date field."
    for index, measure in enumerate(spec.measures):
        if measure.field is None:
            continue
        info = fields.get(_qualified(spec.record_type, measure.field))
        if info is None or info.type not in NUMERIC:
            errors[f"measures[{index}].field"] = f"{measure.field!r} is not a number field."
    if errors:
        raise ValidationFailed(errors)
    return spec, fields


def _qualified(record_type: str, path: str) -> str:
    return path if path.startswith(f"{record_type}.") else f"{record_type}.{path}"


def field_info(fields: dict[str, FieldInfo], record_type: str, path: str) -> FieldInfo:
    return fields[_qualified(record_type, path)]
