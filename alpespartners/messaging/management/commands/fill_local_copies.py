from django.core.management.base import BaseCommand, CommandError

from alpespartners.messaging import contexts, replay


class Command(BaseCommand):
    help = ("Fill what a context's local copies of other contexts lack because it was added after their rows "
            "(names, masks) from the events still kept on the topics: Pulsar's retention, or the outbox in the "
            "embedded default. Fills blanks only, so it is safe to run again and while the consumers run. Every "
            "context that has something to fill when omitted.")

    def add_arguments(self, parser):
        parser.add_argument("contexto", nargs="?", help="a context, e.g. pagos")

    def handle(self, *args, contexto, **options):
        if contexto and contexto not in contexts.all_contexts():
            raise CommandError(f"unknown context: {contexto}")
        names = [contexto] if contexto else contexts.all_contexts()
        fillable = {name: getattr(contexts.wiring(name), "fill_local_copies", None) for name in names}
        if contexto and fillable[contexto] is None:
            raise CommandError(f"{contexto} keeps nothing to fill from other contexts' events.")
        for name, fill in fillable.items():
            if fill is not None:
                filled = fill(replay.events_from_start)
                self.stdout.write(f"{name}: " + ", ".join(f"{cuantos} {que}" for que, cuantos in filled.items()))
