from django.apps import AppConfig


class InsightsConfig(AppConfig):
    name = "flowcrm.insights"
    label = "insights"
