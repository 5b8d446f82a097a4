from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "flowcrm.reports"
    label = "reports"
