from django.core.management.base import BaseCommand

from alpespartners.messaging import replay
from pagos import projections


class Command(BaseCommand):
    help = ("Fill the client and campaign names and the payment-method masks pagos' local copies lack (rows "
            "older than those columns) from the events still kept on eventos.cliente and eventos.campanias "
            "(Pulsar's retention; the outbox in the embedded default). Fills blanks only: safe to run again, "
            "and while the consumers run.")

    def handle(self, *args, **options):
        rellenados = projections.rellenar(replay.events_from_start("eventos.cliente"),
                                          replay.events_from_start("eventos.campanias"))
        self.stdout.write(", ".join(f"{cuantos} {que}" for que, cuantos in rellenados.items()) + " rellenados.")
