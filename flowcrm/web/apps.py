from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "flowcrm.web"
    label = "web"
