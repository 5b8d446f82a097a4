"""Request and response schemas of the contacts API."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ninja import Field, Schema
from pydantic import ConfigDict


class StrictIn(Schema):
    # An unknown field is a mistake the client should hear about, not silently dropped.
    model_config = ConfigDict(extra="forbid")


class TagOut(Schema):
    id: int
    name: str
    color: str


class UserRef(Schema):
    id: int
    email: str
    name: str


class CompanyRef(Schema):
    id: int
    name: str
    domain: str


class ContactOut(Schema):
    id: int
    first_name: str
    last_name: str
    full_name: str
    email: str | None
    extra_emails: list[str]
    phone: str
    extra_phones: list[str]
    job_title: str
    company: CompanyRef | None
    owner: UserRef | None
    lifecycle_stage: str
    lead_status: str
    source: str
    score: int
    country: str
    unsubscribed: bool
    external_id: str | None
    custom: dict[str, Any]
    tags: list[TagOut]
    merged_into_id: int | None
    created_at: dt.datetime
    updated_at: dt.datetime


class ContactFieldsIn(StrictIn):
    """Contact fields; every one optional (PATCH sends only what changes)."""

    first_name: str | None = None
    last_name: str | None = None
    email: str | None = Field(None, description="Stored trimmed and lower-case; unique.")
    extra_emails: list[str] | None = None
    phone: str | None = Field(None, description="Stored in E.164; national numbers need country.")
    extra_phones: list[str] | None = None
    job_title: str | None = None
    company_id: int | None = None
    owner_id: int | None = None
    lifecycle_stage: str | None = None
    lead_status: str | None = None
    source: str | None = None
    score: int | None = None
    country: str | None = Field(None, description="ISO 3166-1 alpha-2.")
    unsubscribed: bool | None = None
    external_id: str | None = None
    custom: dict[str, Any] | None = Field(None, description="Custom field values by key.")


class ContactCreateIn(ContactFieldsIn):
    tag_ids: list[int] = Field(default_factory=list)


class ContactPage(Schema):
    items: list[ContactOut]
    next_cursor: str | None


class CompanyOut(Schema):
    id: int
    name: str
    domain: str
    industry: str
    size: str
    country: str
    owner: UserRef | None
    external_id: str | None
    custom: dict[str, Any]
    tags: list[TagOut]
    merged_into_id: int | None
    created_at: dt.datetime
    updated_at: dt.datetime


class CompanyFieldsIn(StrictIn):
    name: str | None = None
    domain: str | None = Field(None, description="Stored as a bare lower-case host name.")
    industry: str | None = None
    size: str | None = None
    country: str | None = None
    owner_id: int | None = None
    external_id: str | None = None
    custom: dict[str, Any] | None = None


class CompanyCreateIn(CompanyFieldsIn):
    tag_ids: list[int] = Field(default_factory=list)


class CompanyPage(Schema):
    items: list[CompanyOut]
    next_cursor: str | None


class TagRefIn(StrictIn):
    tag_id: int


class TagIn(StrictIn):
    name: str
    color: str | None = None


class TagPatchIn(StrictIn):
    name: str | None = None
    color: str | None = None


class CustomFieldOut(Schema):
    id: int
    record_type: str
    key: str
    label: str
    field_type: str
    choices: list[str]
    required: bool
    is_unique: bool
    help_text: str
    position: int


class CustomFieldIn(StrictIn):
    record_type: str
    key: str
    label: str
    field_type: str
    choices: list[str] = Field(default_factory=list)
    required: bool = False
    is_unique: bool = False
    help_text: str = ""
    position: int = 0


class CustomFieldPatchIn(StrictIn):
    label: str | None = None
    choices: list[str] | None = None
    required: bool | None = None
    is_unique: bool | None = None
    help_text: str | None = None
    position: int | None = None


class ListParams(Schema):
    sort: str | None = Field(None, description="A field, '-' for descending.")
    cursor: str | None = None
    limit: int = Field(50, ge=1, le=200)
    q: str = Field("", description="Search words (prefix match).")
    owner: int | None = None
    tag: int | None = None
    country: str | None = None
    created_after: dt.datetime | None = None
    created_before: dt.datetime | None = None


class ContactListParams(ListParams):
    company: int | None = None
    lifecycle_stage: str | None = None
    lead_status: str | None = None
    source: str | None = None


class CompanyListParams(ListParams):
    industry: str | None = None
    size: str | None = None
