from django.apps import AppConfig


class ImportsConfig(AppConfig):
    name = "flowcrm.imports"
    label = "imports"
    verbose_name = "Imports and exports"
