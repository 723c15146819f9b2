from django.core.management.base import BaseCommand

from webhooks.entregas import Despachador


class Command(BaseCommand):
    help = "Send due webhook deliveries to the clients' endpoints until stopped (SIGTERM)."

    def add_arguments(self, parser):
        parser.add_argument("--hilos", type=int, help="threads sending (WEBHOOKS_HILOS)")
        parser.add_argument("--por-endpoint", type=int, help="threads one endpoint may hold (WEBHOOKS_POR_ENDPOINT)")

    def handle(self, *args, hilos=None, por_endpoint=None, **options):
        despachador = Despachador(hilos=hilos, por_endpoint=por_endpoint)
        despachador.install_signal_handlers()
        despachador.run()
        self.stdout.write(f"webhooks dispatcher stopped after {despachador.intentos} attempts")
