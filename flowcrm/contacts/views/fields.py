"""Form fields of the contact and company pages, built-in and custom, in one shape.

The create forms and the inline editors render the same :class:`FormField`, and
:func:`parse_field` turns what a browser posts back into the value the service expects, so the
pages validate exactly like the API (the service does the validation; this only converts).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.http import QueryDict

from flowcrm.accounts.models import User
from flowcrm.contacts.models import Company, CompanySize, Contact, LeadStatus, LifecycleStage
from flowcrm.core.errors import ValidationFailed
from flowcrm.core.models import CustomFieldDefinition, CustomFieldType


@dataclass
class FormField:
    """One editable field: how to draw its input and how to show its value."""

    name: str
    label: str
    kind: str = "text"  # text, email, tel, number, date, url, select, multiselect
    choices: list[tuple[str, str]] = field(default_factory=list)
    required: bool = False
    help_text: str = ""
    value: Any = ""
    display: str = ""
    error: str = ""

    @property
    def selected(self) -> list[str]:
        values = self.value if isinstance(self.value, list) else [self.value]
        return [str(v) for v in values if v not in (None, "")]


def _user_choices(users: list[User]) -> list[tuple[str, str]]:
    return [("", "—")] + [(str(u.pk), u.display_name) for u in users]


def _builtin_contact_fields(users: list[User]) -> list[FormField]:
    return [
        FormField("first_name", "First name"),
        FormField("last_name", "Last name"),
        FormField("email", "E-mail", kind="email"),
        FormField(
            "phone", "Phone", kind="tel", help_text="+49 30 123456, or national with a country"
        ),
        FormField("job_title", "Job title"),
        FormField("country", "Country", help_text="ISO code, e.g. DE"),
        FormField(
            "lifecycle_stage",
            "Lifecycle stage",
            kind="select",
            choices=list(LifecycleStage.choices),
        ),
        FormField(
            "lead_status", "Lead status", kind="select", choices=[("", "—"), *LeadStatus.choices]
        ),
        FormField("source", "Source"),
        FormField("score", "Score", kind="number"),
        FormField("owner", "Owner", kind="select", choices=_user_choices(users)),
    ]


def _builtin_company_fields(users: list[User]) -> list[FormField]:
    return [
        FormField("name", "Name", required=True),
        FormField("domain", "Domain", help_text="acme.com"),
        FormField("industry", "Industry"),
        FormField("size", "Size", kind="select", choices=[("", "—"), *CompanySize.choices]),
        FormField("country", "Country", help_text="ISO code, e.g. DE"),
        FormField("owner", "Owner", kind="select", choices=_user_choices(users)),
    ]


_CUSTOM_KINDS = {
    CustomFieldType.NUMBER: "number",
    CustomFieldType.MONEY: "number",
    CustomFieldType.DATE: "date",
    CustomFieldType.URL: "url",
    CustomFieldType.EMAIL: "email",
    CustomFieldType.CHOICE: "select",
    CustomFieldType.MULTI_CHOICE: "multiselect",
    CustomFieldType.BOOLEAN: "select",
    CustomFieldType.USER: "select",
}


def _custom_field(definition: CustomFieldDefinition, users: list[User]) -> FormField:
    kind = _CUSTOM_KINDS.get(CustomFieldType(definition.field_type), "text")
    choices: list[tuple[str, str]] = []
    if definition.field_type == CustomFieldType.CHOICE:
        choices = [("", "—")] + [(c, c) for c in definition.choices]
    elif definition.field_type == CustomFieldType.MULTI_CHOICE:
        choices = [(c, c) for c in definition.choices]
    elif definition.field_type == CustomFieldType.BOOLEAN:
        choices = [("", "—"), ("true", "Yes"), ("false", "No")]
    elif definition.field_type == CustomFieldType.USER:
        choices = _user_choices(users)
    return FormField(
        f"custom.{definition.key}",
        definition.label,
        kind=kind,
        choices=choices,
        required=definition.required,
        help_text=definition.help_text,
    )


def form_fields(
    record: Contact | Company | None,
    *,
    record_type: str,
    definitions: list[CustomFieldDefinition],
    users: list[User],
) -> list[FormField]:
    """Every editable field of a record type, filled from ``record`` (``None``: a new one)."""
    builtin = (
        _builtin_contact_fields(users)
        if record_type == "contact"
        else _builtin_company_fields(users)
    )
    fields = builtin + [_custom_field(d, users) for d in definitions]
    user_names = {str(u.pk): u.display_name for u in users}
    for form_field in fields:
        value = _current_value(record, form_field.name)
        form_field.value = value
        form_field.display = _display(form_field, value, user_names)
    return fields


def _current_value(record: Contact | Company | None, name: str) -> Any:
    if record is None:
        return "lead" if name == "lifecycle_stage" else ""
    if name.startswith("custom."):
        value = record.custom.get(name.removeprefix("custom."), "")
        return ("true" if value else "false") if isinstance(value, bool) else value
    if name == "owner":
        return record.owner_id or ""
    value = getattr(record, name)
    return "" if value is None else value


def _display(form_field: FormField, value: Any, user_names: dict[str, str]) -> str:
    if value in ("", None, []):
        return ""
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if form_field.kind == "select":
        labels = dict(form_field.choices)
        if form_field.name == "owner":
            return user_names.get(str(value), str(value))
        return labels.get(str(value), str(value))
    return str(value)


def parse_field(form_field: FormField, data: QueryDict) -> tuple[str, Any]:
    """The service's ``values`` entry for one posted field: ``(name, value)``.

    Custom values go as ``("custom", {key: value})`` (``None`` clears). Raises ValidationFailed
    naming the field when the text cannot be converted (a score that is not a whole number,
    an owner that is not an active user).
    """
    name = form_field.name
    if name.startswith("custom."):
        key = name.removeprefix("custom.")
        raw: Any = data.getlist(name) if form_field.kind == "multiselect" else data.get(name, "")
        if raw in ("", []):
            raw = None
        return "custom", {key: raw}
    text = data.get(name, "").strip()
    if name == "score":
        try:
            return name, int(text or 0)
        except ValueError as error:
            raise ValidationFailed({name: "Expected a whole number."}) from error
    if name == "owner":
        if not text:
            return name, None
        owner = User.objects.filter(pk=int(text) if text.isdigit() else 0, is_active=True).first()
        if owner is None:
            raise ValidationFailed({name: f"No active user with id {text}."})
        return name, owner
    if name == "email":
        return name, text or None
    return name, text
