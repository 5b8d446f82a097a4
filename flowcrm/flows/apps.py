from django.apps import AppConfig


class FlowsConfig(AppConfig):
    name = "flowcrm.flows"
    label = "flows"
