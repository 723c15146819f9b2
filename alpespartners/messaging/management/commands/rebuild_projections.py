import sys

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from alpespartners.messaging import contexts


class Command(BaseCommand):
    help = "Replay a context's event store into its read models (every event-sourced context when omitted)."

    def add_arguments(self, parser):
        parser.add_argument("contexto", nargs="?", help="an event-sourced context, e.g. campanias")

    def handle(self, *args, contexto, **options):
        if contexto and contexto not in contexts.all_contexts():
            raise CommandError(f"unknown context: {contexto}")
        names = [contexto] if contexto else contexts.all_contexts()
        rebuildable = {name: getattr(contexts.wiring(name), "rebuild_projections", None) for name in names}
        if contexto and rebuildable[contexto] is None:
            raise CommandError(f"{contexto} does not keep an event store: its read models are written with its state.")
        for name, rebuild in rebuildable.items():
            if rebuild is None:
                continue
            replayed = rebuild(lambda total, name=name: tqdm(total=total, desc=name, unit="event", file=sys.stderr))
            self.stdout.write(f"{name}: {replayed} events replayed into its read models")
