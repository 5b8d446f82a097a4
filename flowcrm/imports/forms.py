"""Reading the import page's mapping form into :class:`ImportOptions`."""

from __future__ import annotations

from django.http import QueryDict

from flowcrm.imports.mapping import TRANSFORMS, ColumnMapping, ImportOptions


def options_from_form(data: QueryDict, headers: list[str], current: ImportOptions) -> ImportOptions:
    """The options posted by the mapping form: one ``target_<n>`` (plus ``transforms_<n>`` and
    ``date_format_<n>``) per column n, ``default_<field>`` values, ``match``, ``policy`` and the
    check boxes. Validation happens in the service (check_options)."""
    mapping: dict[str, ColumnMapping] = {}
    for index, header in enumerate(headers):
        target = data.get(f"target_{index}", "ignore") or "ignore"
        transforms = [t for t in data.getlist(f"transforms_{index}") if t in TRANSFORMS]
        date_format = (data.get(f"date_format_{index}") or "").strip() or None
        mapping[header] = ColumnMapping(
            target=target, transforms=transforms, date_format=date_format
        )
    defaults: dict[str, str] = {}
    for key in data:
        value = str(data.get(key, "")).strip()
        if key.startswith("default_") and value:
            defaults[key.removeprefix("default_")] = value
    policy = data.get("policy", current.policy)
    return ImportOptions(
        mapping=mapping,
        defaults=defaults,
        match=[key for key in data.getlist("match") if key],
        policy=policy if policy in ("create", "update", "create-update") else current.policy,  # type: ignore[arg-type]  # checked against the literal's values
        fill_empty=data.get("fill_empty") == "on",
        merge_matches=data.get("merge_matches") == "on",
        notify_flows=data.get("notify_flows") == "on",
        default_region=(data.get("default_region") or "").strip().upper()[:2],
    )
