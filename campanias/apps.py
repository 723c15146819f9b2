from django.apps import AppConfig


class CampaniasConfig(AppConfig):
    name = "campanias"
    verbose_name = "Campañas"
