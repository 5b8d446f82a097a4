"""Turning one file row into field values: transforms, type conversion and validation.

A :class:`RowCleaner` is compiled once per import from the mapping, then called for every row;
it returns the cleaned standard fields, custom values and relation names, and an error per
column for anything it could not read. Empty cells mean "no value in the file": they never
clear a stored value.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

import pycountry
from django.utils import timezone

from flowcrm.core.custom_fields import clean_value, definitions_for
from flowcrm.core.models import CustomFieldDefinition, CustomFieldType
from flowcrm.imports.fields import FieldSpec, RecordSpec
from flowcrm.imports.mapping import ImportOptions, apply_transforms, split_full_name
from flowcrm.imports.normalise import normalise_domain, normalise_email, normalise_phone

FORMULA_MESSAGE = (
    "looks like a spreadsheet formula ({value!r}); formulas are not imported."
    " Remove the leading '{char}' or quote the text in the source file."
)


@dataclass
class CleanRow:
    """The result of cleaning one row. ``errors`` maps a column name to what is wrong."""

    line: int
    cells: list[str]
    values: dict[str, Any] = field(default_factory=dict)
    custom: dict[str, Any] = field(default_factory=dict)
    relations: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)

    def error_text(self) -> str:
        return "; ".join(f"{column}: {message}" for column, message in self.errors.items())


def looks_like_formula(value: str) -> bool:
    """True for text a spreadsheet would evaluate: ``=…``, ``@…``, ``+``/``-`` then non-number."""
    if not value:
        return False
    first = value[0]
    if first in "=@":
        return True
    if first in "+-" and len(value) > 1:
        return not (value[1].isdigit() or value[1] in " .")
    return first in "\t\r"


Converter = Callable[[str], Any]


class RowCleaner:
    def __init__(self, spec: RecordSpec, headers: list[str], options: ImportOptions) -> None:
        self.spec = spec
        self.headers = headers
        self.width = len(headers)
        self.definitions = definitions_for(spec.record_type)
        region = options.default_region.upper() or None
        self._region = region
        # (cell index, column name, target, transforms, converter) for every mapped column.
        self.columns: list[tuple[int, str, str, list[str], Converter | None]] = []
        for index, header in enumerate(headers):
            column_mapping = options.mapping.get(header)
            if column_mapping is None or column_mapping.target == "ignore":
                continue
            target = column_mapping.target
            converter = self._converter(target, column_mapping.date_format)
            transforms = [t for t in column_mapping.transforms if t != "trim"]
            self.columns.append((index, header, target, transforms, converter))
        self._plain_targets = frozenset(spec.fields)
        self.defaults: list[tuple[str, str, Converter | None]] = [
            (name, value, self._converter(name, None)) for name, value in options.defaults.items()
        ]

    def clean(self, line: int, cells: list[str]) -> CleanRow:
        row = CleanRow(line=line, cells=cells)
        if len(cells) != self.width:
            row.errors["(row)"] = (
                f"line {line} has {len(cells)} fields, the header has {self.width}."
            )
            return row
        for name, raw, converter in self.defaults:
            self._put(row, name, name, raw, converter)
        values = row.values
        for index, header, target, transforms, converter in self.columns:
            raw = cells[index].strip()
            if not raw:
                continue
            if transforms:
                raw = apply_transforms(raw, transforms)
            if converter is not None and target in self._plain_targets:
                try:
                    values[target] = converter(raw)
                except ValueError as error:
                    row.errors[header] = str(error)
            else:
                self._put(row, header, target, raw, converter)
        return row

    def _put(
        self, row: CleanRow, column: str, target: str, raw: str, conv: Converter | None
    ) -> None:
        if conv is None:  # a relation: resolved later, in bulk
            row.relations[target] = raw
            return
        try:
            value = conv(raw)
        except ValueError as error:
            row.errors[column] = str(error)
            return
        if target == "full_name":
            row.values["first_name"], row.values["last_name"] = value
        elif target.startswith("custom."):
            row.custom[target[7:]] = value
        else:
            row.values[target] = value

    def _converter(self, target: str, date_format: str | None) -> Converter | None:
        if target in self.spec.relations:
            return None
        if target == "full_name":
            return _full_name
        if target.startswith("custom."):
            return _custom_converter(self.definitions[target[7:]], date_format)
        spec = self.spec.fields[target]
        return _field_converter(spec, date_format, self._region)


def _full_name(raw: str) -> tuple[str, str]:
    _check_formula(raw)
    first, last = split_full_name(raw)
    return first[:100], last[:100]


def _check_formula(raw: str) -> None:
    if looks_like_formula(raw):
        raise ValueError(FORMULA_MESSAGE.format(value=raw[:40], char=raw[0]))


def _field_converter(spec: FieldSpec, date_format: str | None, region: str | None) -> Converter:
    kind = spec.kind
    if kind == "text":
        limit = spec.max_length

        def text(raw: str) -> str:
            if looks_like_formula(raw):
                _check_formula(raw)
            if limit is not None and len(raw) > limit:
                raise ValueError(f"longer than {limit} characters.")
            return raw

        return text
    if kind == "email":
        return normalise_email
    if kind == "phone":
        return lambda raw: normalise_phone(raw, region)
    if kind == "domain":
        return normalise_domain
    if kind == "country":
        return country_code
    if kind == "currency":
        return _currency
    if kind == "choice":
        return _choice_converter(spec)
    if kind == "int":
        return _integer
    if kind == "bool":
        return _boolean
    if kind == "decimal":
        return _decimal
    if kind == "date":
        return lambda raw: parse_date(raw, date_format)
    return lambda raw: parse_datetime(raw, date_format)


def _custom_converter(definition: CustomFieldDefinition, date_format: str | None) -> Converter:
    def convert(raw: str) -> Any:
        if definition.field_type == CustomFieldType.TEXT:
            _check_formula(raw)
        value: Any = raw
        if definition.field_type == CustomFieldType.DATE:
            value = parse_date(raw, date_format)
        elif definition.field_type == CustomFieldType.MULTI_CHOICE:
            value = [item.strip() for item in raw.split(";") if item.strip()]
        return clean_value(definition, value)

    return convert


def _simplify(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.casefold())


def _choice_converter(spec: FieldSpec) -> Converter:
    lookup = {_simplify(choice): choice for choice in spec.choices}
    model_field = spec.name
    from flowcrm.imports.fields import SPECS

    for record_spec in SPECS.values():
        if record_spec.fields.get(model_field) is spec:
            model_field_object = record_spec.model._meta.get_field(model_field)
            for value, label in getattr(model_field_object, "choices", None) or []:
                lookup.setdefault(_simplify(str(label)), str(value))

    def choice(raw: str) -> str:
        found = lookup.get(_simplify(raw))
        if found is None:
            raise ValueError(f"{raw!r} is not one of {', '.join(spec.choices)}.")
        return found

    return choice


@lru_cache(maxsize=4096)
def country_code(raw: str) -> str:
    """An ISO 3166-1 alpha-2 code from a code or an English country name."""
    text = raw.strip()
    if len(text) == 2 and pycountry.countries.get(alpha_2=text.upper()) is not None:
        return text.upper()
    try:
        return str(pycountry.countries.lookup(text).alpha_2)
    except LookupError:
        raise ValueError(f"{text!r} is not a country (use a name or ISO code).") from None


def _currency(raw: str) -> str:
    code = raw.strip().upper()
    if not re.fullmatch(r"[A-Z]{3}", code):
        raise ValueError(f"{raw!r} is not a three-letter currency code.")
    return code


def _integer(raw: str) -> int:
    try:
        return int(Decimal(raw.replace(" ", "")).to_integral_value(rounding="ROUND_HALF_EVEN"))
    except (InvalidOperation, ValueError):
        raise ValueError(f"{raw!r} is not a whole number.") from None


def _decimal(raw: str) -> Decimal:
    text = raw.replace(" ", "").replace("\u00a0", "")
    if "," in text and "." in text:
        text = text.replace(",", "")
    elif re.fullmatch(r"-?\d+,\d{1,2}", text):
        text = text.replace(",", ".")
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"{raw!r} is not a number.") from None
    if not number.is_finite():
        raise ValueError(f"{raw!r} is not a number.")
    return number.quantize(Decimal("0.01"))


_TRUE = {"true", "yes", "y", "1", "x"}
_FALSE = {"false", "no", "n", "0"}


def _boolean(raw: str) -> bool:
    text = raw.strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(f"{raw!r} is not yes/no or true/false.")


def parse_date(raw: str, date_format: str | None) -> dt.date:
    try:
        if date_format:
            return dt.datetime.strptime(raw.strip(), date_format).date()
        return dt.date.fromisoformat(raw.strip()[:10])
    except ValueError:
        raise ValueError(
            f"{raw!r} is not a date in the format {date_format or 'YYYY-MM-DD'}."
        ) from None


def parse_datetime(raw: str, date_format: str | None) -> dt.datetime:
    try:
        if date_format:
            value = dt.datetime.strptime(raw.strip(), date_format)
        else:
            value = dt.datetime.fromisoformat(raw.strip())
    except ValueError:
        raise ValueError(
            f"{raw!r} is not a date and time in the format {date_format or 'ISO 8601'}."
        ) from None
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    return value
