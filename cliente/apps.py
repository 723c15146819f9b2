from django.apps import AppConfig


class ClienteConfig(AppConfig):
    name = "cliente"
    verbose_name = "Clientes"
