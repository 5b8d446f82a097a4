from django.apps import AppConfig


class ContactsConfig(AppConfig):
    name = "flowcrm.contacts"
    label = "contacts"
