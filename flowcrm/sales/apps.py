from django.apps import AppConfig


class SalesConfig(AppConfig):
    name = "flowcrm.sales"
    label = "sales"
