from django.apps import AppConfig


class AccessConfig(AppConfig):
    name = "alpespartners.access"
    label = "access"
    verbose_name = "Acceso"
