from django.apps import AppConfig


class MessagingConfig(AppConfig):
    name = "alpespartners.messaging"
    label = "messaging"
    verbose_name = "Mensajería"

    def ready(self):
        from prometheus_client import REGISTRY

        from alpespartners.metrics import OperationsCollector

        # Read at each scrape of /metrics in a single process (a multiprocess scrape builds its own
        # registry); nothing is queried while registering (describe() is empty).
        REGISTRY.register(OperationsCollector())
