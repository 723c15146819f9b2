from django.apps import AppConfig
from django.conf import settings


class MessagingConfig(AppConfig):
    name = "alpespartners.messaging"
    label = "messaging"
    verbose_name = "Mensajería"

    def ready(self):
        from django.core.signals import setting_changed

        # The transport is chosen here, once, so that the outbox only writes rows and imports no
        # transport; a test overriding PULSAR_URL chooses again.
        choose_transport()
        setting_changed.connect(_choose_again, dispatch_uid="messaging.choose_transport")


def choose_transport() -> None:
    """Without PULSAR_URL (the embedded default) committed outbox rows go straight to the local
    consumers; with it the relay publishes them to Pulsar."""
    from . import in_process, outbox  # here: apps.py is imported before the models can be

    outbox.use_transport(None if settings.PULSAR_URL else in_process.deliver)


def _choose_again(setting: str, **kwargs) -> None:
    if setting == "PULSAR_URL":
        choose_transport()
