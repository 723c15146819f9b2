from django.apps import AppConfig


class MessagingConfig(AppConfig):
    name = "alpespartners.messaging"
    label = "messaging"
    verbose_name = "Mensajería"
