from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from alpespartners.messaging import contexts
from alpespartners.messaging.pulsar_consumer import PulsarConsumer


class Command(BaseCommand):
    help = "Consume the events and commands of some contexts (or of all) from Pulsar."

    def add_arguments(self, parser):
        parser.add_argument("contextos", nargs="*", help="cliente, campanias, pagos; all when omitted")

    def handle(self, *args, contextos, **options):
        if not settings.PULSAR_URL:
            raise CommandError("PULSAR_URL is not set: the in-process transport needs no consumer process.")
        names = contextos or contexts.all_contexts()
        unknown = set(names) - set(contexts.all_contexts())
        if unknown:
            raise CommandError(f"unknown context: {', '.join(sorted(unknown))}")
        consumer = PulsarConsumer(names)
        consumer.install_signal_handlers()
        consumer.run()
        self.stdout.write(f"consumer stopped after {consumer.handled} messages")
