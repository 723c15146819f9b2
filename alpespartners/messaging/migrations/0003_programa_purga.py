"""messaging's periodic task (alpespartners/schedules.py: created once, then the admin's)."""

from django.db import migrations

from alpespartners import schedules

NOMBRE = "purgar-mensajes"


def crear(apps, schema_editor):
    schedules.install(apps, NOMBRE, "messaging.purgar_mensajes",
                      "Borra las filas publicadas del outbox y las del inbox pasado su plazo de retención.",
                      crontab={"minute": "30", "hour": "3"})


def borrar(apps, schema_editor):
    schedules.uninstall(apps, NOMBRE)


class Migration(migrations.Migration):
    dependencies = [
        ("messaging", "0002_outbox_notify_trigger"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(crear, borrar)]
