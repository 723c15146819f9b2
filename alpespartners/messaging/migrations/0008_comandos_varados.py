"""The sweep of commands whose task was lost: when each was last enqueued again, and its schedule
(alpespartners/schedules.py: created once, then the admin's)."""

from django.db import migrations, models

from alpespartners import schedules

NOMBRE = "messaging: reenviar comandos pendientes"


def crear(apps, schema_editor):
    schedules.install(apps, NOMBRE, "messaging.reenqueue_stranded_commands",
                      "Encola de nuevo los comandos que siguen PENDIENTE tras COMMAND_SWEEP_AFTER_SECONDS "
                      "(su tarea se perdió: un broker reiniciado sin persistencia, un proceso web terminado).",
                      every_seconds=60)


def borrar(apps, schema_editor):
    schedules.uninstall(apps, NOMBRE)


class Migration(migrations.Migration):
    dependencies = [
        ("messaging", "0007_drain_requests"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [
        migrations.AddField(model_name="commandlog", name="swept_at", field=models.DateTimeField(blank=True, null=True)),
        migrations.RunPython(crear, borrar),
    ]
