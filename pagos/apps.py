from django.apps import AppConfig


class PagosConfig(AppConfig):
    name = "pagos"
    verbose_name = "Pagos"

    def ready(self):
        from pagos import dashboard, tasks  # noqa: F401  (tasks: registered in every process, web included)

        dashboard.register()  # its numbers on the back office's home and its gauges in /metrics
