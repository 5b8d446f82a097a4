"""Column mappings: what each file column fills, how it is transformed, and the import options.

A mapping is plain data (saved as a :class:`~flowcrm.imports.models.MappingPreset`)::

    {"Email": {"target": "email", "transforms": ["trim"]},
     "Name": {"target": "full_name"},
     "Signed up": {"target": "custom.signup_date", "date_format": "%d/%m/%Y"},
     "Notes": {"target": "ignore"}}

Targets are a standard field, ``full_name`` (split into first and last name), ``custom.<key>``,
a relation (``company``, ``owner``, ``pipeline``, ``stage``, ``contact``, ``deal``) or ``ignore``.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

from flowcrm.core.custom_fields import definitions_for
from flowcrm.core.errors import ValidationFailed
from flowcrm.imports.fields import RecordSpec

PRESET_DIR = Path(__file__).resolve().parent / "presets"
BUILTIN_PRESETS = ("hubspot", "salesforce")
TRANSFORMS = ("trim", "lower", "upper", "title", "collapse_spaces")
Policy = Literal["create", "update", "create-update"]


class ColumnMapping(BaseModel):
    target: str = "ignore"
    transforms: list[str] = Field(default_factory=list)
    date_format: str | None = None


class ImportOptions(BaseModel):
    """Everything an import run needs besides the file."""

    mapping: dict[str, ColumnMapping] = Field(default_factory=dict)
    defaults: dict[str, str] = Field(default_factory=dict)
    match: list[str] = Field(default_factory=list)
    policy: Policy = "create-update"
    fill_empty: bool = False
    merge_matches: bool = False
    notify_flows: bool = False
    default_region: str = ""


@cache
def builtin_preset(name: str) -> dict[str, dict[str, str]]:
    """A shipped preset: record kind (``contacts``…) → header name → target."""
    if name not in BUILTIN_PRESETS:
        raise ValidationFailed({"preset": f"Unknown preset {name!r}: use hubspot or salesforce."})
    data: dict[str, dict[str, str]] = json.loads((PRESET_DIR / f"{name}.json").read_text())
    return data


def _simplify(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.casefold())


_SYNONYMS: dict[str, str] = {
    "emailaddress": "email", "mail": "email", "email": "email", "primaryemail": "email",
    "firstname": "first_name", "givenname": "first_name", "forename": "first_name",
    "lastname": "last_name", "surname": "last_name", "familyname": "last_name",
    "name": "full_name", "fullname": "full_name", "contactname": "full_name",
    "phone": "phone", "phonenumber": "phone", "telephone": "phone", "mobile": "phone",
    "title": "job_title", "jobtitle": "job_title", "position": "job_title",
    "company": "company", "companyname": "company", "organisation": "company",
    "organization": "company", "account": "company", "accountname": "company",
    "owner": "owner", "owneremail": "owner", "assignedto": "owner",
    "website": "domain", "url": "domain", "domain": "domain",
    "externalid": "external_id", "id": "external_id", "recordid": "external_id",
    "stage": "stage", "dealstage": "stage", "pipeline": "pipeline",
    "deal": "title", "dealname": "title", "value": "amount", "amount": "amount",
    "closedate": "expected_close_date", "expectedclosedate": "expected_close_date",
    "type": "kind", "activitytype": "kind", "date": "occurred_at", "notes": "body",
    "contactemail": "contact", "leadsource": "source", "source": "source",
}  # fmt: skip


def suggest_mapping(
    headers: list[str], spec: RecordSpec, *, preset: str | None = None
) -> dict[str, ColumnMapping]:
    """A mapping guessed from header names: preset names first, then field names and synonyms.

    A target is suggested for at most one column (the first that claims it), except that the
    company name of a record type without a ``name`` field stays a relation.
    """
    targets = set(spec.targets())
    custom_keys = {key: key for key in definitions_for(spec.record_type)}
    preset_columns = builtin_preset(preset).get(_kind_name(spec), {}) if preset else {}
    preset_by_simple = {_simplify(k): v for k, v in preset_columns.items()}
    taken: set[str] = set()
    result: dict[str, ColumnMapping] = {}
    for header in headers:
        simple = _simplify(header)
        target = preset_columns.get(header) or preset_by_simple.get(simple)
        if target is None:
            target = _guess_target(header, simple, targets, custom_keys)
        if target is None or target in taken:
            result[header] = ColumnMapping(target="ignore")
            continue
        if spec.record_type == "company" and target == "company":
            target = "name"
        if spec.record_type == "deal" and target == "full_name":
            target = "title"
        if target not in targets and not target.startswith("custom."):
            result[header] = ColumnMapping(target="ignore")
            continue
        taken.add(target)
        result[header] = ColumnMapping(target=target)
    return result


def _guess_target(
    header: str, simple: str, targets: set[str], custom_keys: dict[str, str]
) -> str | None:
    snake = re.sub(r"[^a-z0-9]+", "_", header.casefold()).strip("_")
    if snake in targets:
        return snake
    for key in custom_keys:
        if simple == _simplify(key):
            return f"custom.{key}"
    return _SYNONYMS.get(simple)


def _kind_name(spec: RecordSpec) -> str:
    return {"contact": "contacts", "company": "companies", "deal": "deals"}.get(
        spec.record_type, "activities"
    )


def check_options(options: ImportOptions, spec: RecordSpec, headers: list[str]) -> None:
    """Raise ValidationFailed naming every unknown column, target, transform or match key."""
    errors: dict[str, str] = {}
    targets = set(spec.targets())
    custom = definitions_for(spec.record_type)
    for column, column_mapping in options.mapping.items():
        where = f"mapping.{column}"
        if column not in headers:
            errors[where] = f"The file has no column {column!r}."
        target = column_mapping.target
        if target == "ignore":
            continue
        if target.startswith("custom."):
            if target.removeprefix("custom.") not in custom:
                errors[where] = f"No custom field {target.removeprefix('custom.')!r}."
        elif target not in targets:
            errors[where] = f"Unknown target {target!r} for {spec.record_type} imports."
        for transform in column_mapping.transforms:
            if transform not in TRANSFORMS:
                errors[where] = f"Unknown transform {transform!r}: use {', '.join(TRANSFORMS)}."
    for name in options.defaults:
        if name not in targets and name.removeprefix("custom.") not in custom:
            errors[f"defaults.{name}"] = f"Unknown field {name!r}."
    for key in options.match:
        if key in spec.fields or (key.startswith("custom.") and key[7:] in custom):
            continue
        errors["match"] = f"{key!r} cannot be a match key for {spec.record_type} imports."
    mapped = {m.target for m in options.mapping.values()} | set(options.defaults)
    if "full_name" in mapped:
        mapped |= {"first_name", "last_name"}
    missing_keys = [key for key in options.match if key not in mapped]
    if missing_keys and "match" not in errors:
        errors["match"] = f"Match key {missing_keys[0]!r} is not mapped from any column."
    if options.policy != "create" and not options.match:
        errors["match"] = "Choose at least one match key to update existing records."
    if errors:
        raise ValidationFailed(errors)


def apply_transforms(value: str, transforms: list[str]) -> str:
    for transform in transforms:
        if transform == "trim":
            value = value.strip()
        elif transform == "lower":
            value = value.lower()
        elif transform == "upper":
            value = value.upper()
        elif transform == "title":
            value = value.title()
        elif transform == "collapse_spaces":
            value = " ".join(value.split())
    return value


def split_full_name(value: str) -> tuple[str, str]:
    """``"Ada King Lovelace"`` → ``("Ada King", "Lovelace")``; ``"Lovelace, Ada"`` too."""
    value = " ".join(value.split())
    if "," in value:
        last, _, first = value.partition(",")
        return first.strip(), last.strip()
    first, _, last = value.rpartition(" ")
    return (first, last) if first else (last, "")
