"""Finding duplicate contacts and companies: exact keys, fuzzy names within blocks."""

from __future__ import annotations

import pytest

from flowcrm.accounts.models import Role
from flowcrm.contacts import dedupe
from flowcrm.contacts.dedupe import find_company_duplicates, find_contact_duplicates
from flowcrm.contacts.models import Company, Contact


def contact(**fields: object) -> Contact:
    return Contact.objects.create(**fields)


@pytest.mark.django_db
def test_exact_duplicates_on_email_and_phone(admin_user):
    a = contact(email="Ada@Example.com ", first_name="Ada")
    b = contact(email="ada@example.com", first_name="A.", merged_into=None, external_id="x")
    c = contact(phone="+4930123456", first_name="Grace", last_name="Hopper")
    d = contact(phone="+4930123456", first_name="Alan", last_name="Turing")
    contact(phone="+4930999999", first_name="Solo")
    groups = find_contact_duplicates(admin_user, fuzzy=False)
    assert [(g.ids, g.score, g.reason) for g in groups] == [
        ([a.pk, b.pk], 100, "same e-mail: ada@example.com"),
        ([c.pk, d.pk], 100, "same phone: +4930123456"),
    ]
    assert [r["first_name"] for r in groups[0].records] == ["Ada", "A."]


@pytest.mark.django_db
def test_fuzzy_duplicates_on_name_within_the_same_company(admin_user):
    acme = Company.objects.create(name="Acme")
    globex = Company.objects.create(name="Globex")
    a = contact(first_name="Jonathan", last_name="Smith", company=acme)
    b = contact(first_name="Jonathon", last_name="Smith", company=acme)
    contact(first_name="Jonathan", last_name="Smith", company=globex)  # other company: no match
    contact(first_name="Jane", last_name="Smythe", company=acme)  # too different
    c = contact(first_name="Ada", last_name="Lovelace")
    d = contact(first_name="Ada", last_name="Lovelace ")
    groups = find_contact_duplicates(admin_user, exact=False)
    assert [(g.ids, g.reason) for g in groups] == [
        ([c.pk, d.pk], "similar name"),
        ([a.pk, b.pk], "similar name, same company"),
    ]
    assert groups[0].score == 100
    assert 88 <= groups[1].score < 100


@pytest.mark.django_db
def test_merged_and_invisible_contacts_are_not_reported(make_user, make_team):
    rep = make_user(role=Role.SALES_REP, team=make_team("North"))
    other = make_user(role=Role.SALES_REP, team=make_team("South"))
    live = contact(email="x@example.com", owner=rep)
    contact(email="X@example.com", merged_into=live, owner=rep)
    contact(email="x@example.com ", owner=other)
    assert find_contact_duplicates(rep) == []


@pytest.mark.django_db
def test_oversized_blocks_are_split_by_first_initial(admin_user, monkeypatch):
    monkeypatch.setattr(dedupe, "MAX_BLOCK", 3)
    acme = Company.objects.create(name="Acme")
    names = ("Anna", "Ana", "Bob", "Bo", "Ann", "Anne", "Annie")
    ids = [contact(first_name=n, last_name="Miller", company=acme).pk for n in names]
    # one block of 7 (same company, "mi") is split by initial: the 2 Bs are compared, the 5 As
    # are still over the limit and skipped
    groups = find_contact_duplicates(admin_user, exact=False)
    assert [g.ids for g in groups] == [[ids[2], ids[3]]]


@pytest.mark.django_db
def test_company_duplicates_by_domain_name_and_fuzzy_name(admin_user):
    a = Company.objects.create(name="Acme GmbH", domain="acme.com")
    b = Company.objects.create(name="ACME", domain="acme.com")
    c = Company.objects.create(name="Initech Inc.")
    d = Company.objects.create(name="Initech")
    Company.objects.create(name="Umbrella")
    groups = find_company_duplicates(admin_user)
    assert [(g.ids, g.reason) for g in groups] == [
        ([a.pk, b.pk], "same domain: acme.com"),
        ([c.pk, d.pk], "similar name"),
    ]


@pytest.mark.django_db
def test_duplicates_api_lists_groups_with_a_fixed_number_of_queries(
    admin_api, django_assert_num_queries
):
    for i in range(3):
        contact(email=f"dup{i}@example.com", first_name="Ada", last_name=f"Lovelace{i}")
        contact(email=f"DUP{i}@example.com ", first_name="Ada", last_name=f"Lovelace{i}")
    # token (+ its last-used stamp), e-mail keys and members, phone keys, the records
    with django_assert_num_queries(6):
        response = admin_api.get("contacts/duplicates", {"kind": "exact"})
    body = response.json()
    assert [g["reason"] for g in body] == [f"same e-mail: dup{i}@example.com" for i in range(3)]
