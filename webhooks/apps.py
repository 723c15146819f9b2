from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "webhooks"
    verbose_name = "Webhooks"

    def ready(self):
        from alpespartners import registry
        from webhooks import entregas, queries

        # The back office's home flags the endpoints the dispatcher disabled.
        registry.register_dashboard_numbers("webhooks", queries.tablero)
        registry.register_metric_collector("webhooks", queries.metricas)
        registry.register_embedded_loop("webhooks", entregas.despachar_hasta)
