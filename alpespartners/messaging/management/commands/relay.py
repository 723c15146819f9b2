from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from alpespartners.messaging.relay import Relay


class Command(BaseCommand):
    help = "Publish committed outbox rows to Pulsar, in order, each exactly once. Stops cleanly on SIGTERM."

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=None)
        parser.add_argument("--poll-seconds", type=float, default=None)

    def handle(self, *args, batch_size, poll_seconds, **options):
        if not settings.PULSAR_URL:
            raise CommandError("PULSAR_URL is not set: with the in-process transport there is nothing to relay.")
        if not settings.USING_POSTGRESQL:
            raise CommandError("The relay needs PostgreSQL (LISTEN/NOTIFY and an advisory lock).")
        relay = Relay(batch_size=batch_size, poll_seconds=poll_seconds)
        relay.install_signal_handlers()
        relay.run()
        self.stdout.write(f"relay stopped after publishing {relay.published_total} events")
