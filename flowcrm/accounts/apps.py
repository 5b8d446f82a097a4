from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "flowcrm.accounts"
    label = "accounts"
