from django.core.management.base import BaseCommand

from pagos import tasks


class Command(BaseCommand):
    help = ("Bill now every billable click and impression waiting, as the schedule does every 5 s where "
            "beat runs (the embedded default of `make demo` runs no schedule).")

    def handle(self, *args, **options):
        total = 0
        while facturadas := tasks.facturar_interacciones():
            total += facturadas
        self.stdout.write(f"{total} clicks and impressions billed")
