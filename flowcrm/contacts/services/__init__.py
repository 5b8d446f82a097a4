"""Writes of the contacts domain: contacts, companies, tags and custom field definitions.

Every service takes keyword-only arguments and an ``actor``, writes its row(s) and exactly one
event in one transaction, and raises ValidationFailed (field → reason) before writing anything
when the input is bad. Permission checks (who may write what) belong to the caller, which loads
the record through a permission-scoped selector first.
"""

from flowcrm.contacts.services.companies import (
    COMPANY_FIELDS,
    company_create,
    company_delete,
    company_snapshot,
    company_tag_add,
    company_tag_remove,
    company_update,
)
from flowcrm.contacts.services.contacts import (
    CONTACT_FIELDS,
    contact_create,
    contact_delete,
    contact_snapshot,
    contact_tag_add,
    contact_tag_remove,
    contact_update,
)
from flowcrm.contacts.services.custom_fields import (
    custom_field_create,
    custom_field_delete,
    custom_field_update,
)
from flowcrm.contacts.services.tags import tag_create, tag_delete, tag_update

__all__ = [
    "COMPANY_FIELDS",
    "CONTACT_FIELDS",
    "company_create",
    "company_delete",
    "company_snapshot",
    "company_tag_add",
    "company_tag_remove",
    "company_update",
    "contact_create",
    "contact_delete",
    "contact_snapshot",
    "contact_tag_add",
    "contact_tag_remove",
    "contact_update",
    "custom_field_create",
    "custom_field_delete",
    "custom_field_update",
    "tag_create",
    "tag_delete",
    "tag_update",
]
