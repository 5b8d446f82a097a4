from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "flowcrm.core"
    label = "core"
