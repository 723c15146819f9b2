"""The daily purge of old deliveries (alpespartners/schedules.py: created once, then the admin's)."""

from django.db import migrations

from alpespartners import schedules

NOMBRE = "Purgar entregas de webhooks antiguas"


def instalar(apps, schema_editor):
    schedules.install(apps, NOMBRE, "webhooks.purgar_entregas",
                      "Borra las entregas (e intentos) más antiguas que WEBHOOKS_RETENCION_DIAS.",
                      crontab={"minute": "30", "hour": "3"})


def desinstalar(apps, schema_editor):
    schedules.uninstall(apps, NOMBRE)


class Migration(migrations.Migration):
    dependencies = [("webhooks", "0001_initial"), ("django_celery_beat", "0019_alter_periodictasks_options")]
    operations = [migrations.RunPython(instalar, desinstalar)]
