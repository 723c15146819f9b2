"""What every demo loader (`make demo`) shares: it refuses to run in production, where it would
create or reset the `demo`/`demo` superuser and fake clients."""

from django.conf import settings
from django.core.management import BaseCommand, CommandError


class DemoCommand(BaseCommand):
    def execute(self, *args, **options):
        if settings.PRODUCTION:
            raise CommandError("Los datos de demostración (y el usuario demo/demo) no se cargan con DJANGO_ENV=production.")
        return super().execute(*args, **options)
