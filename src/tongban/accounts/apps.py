from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "tongban.accounts"
    label = "accounts"
    verbose_name = "用户与角色"
