from django.apps import AppConfig


class ActivitiesConfig(AppConfig):
    name = "flowcrm.activities"
    label = "activities"
