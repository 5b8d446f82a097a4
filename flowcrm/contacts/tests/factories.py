# factory-boy ships only partial type hints (no re-exports, untyped declarations):
# mypy: disable-error-code="attr-defined,no-untyped-call,untyped-decorator"
"""factory-boy factories for contacts, companies and tags (usable by every app's tests).

They write rows directly (no events): use them to set up a scene, and the services when the
test is about the write itself.
"""

from __future__ import annotations

import factory

from flowcrm.contacts.models import Company, Contact, LifecycleStage, Tag


class TagFactory(factory.django.DjangoModelFactory[Tag]):
    class Meta:
        model = Tag
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"tag-{n}")
    color = "#2f6fed"


class CompanyFactory(factory.django.DjangoModelFactory[Company]):
    class Meta:
        model = Company

    name = factory.Sequence(lambda n: f"Company {n}")
    domain = factory.Sequence(lambda n: f"company{n}.example")
    industry = "Software"
    country = "DE"


class ContactFactory(factory.django.DjangoModelFactory[Contact]):
    class Meta:
        model = Contact
        skip_postgeneration_save = True

    first_name = factory.Sequence(lambda n: f"First{n}")
    last_name = factory.Sequence(lambda n: f"Last{n}")
    email = factory.Sequence(lambda n: f"person{n}@example.com")
    lifecycle_stage = LifecycleStage.LEAD
    country = "DE"

    @factory.post_generation
    def tags(self, create: bool, extracted: list[Tag] | None, **kwargs: object) -> None:
        if create and extracted:
            self.tags.add(*extracted)
