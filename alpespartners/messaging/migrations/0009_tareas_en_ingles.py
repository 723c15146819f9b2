"""The purge task's code name in English, as infrastructure is named (docs/ARCHITECTURE.md, Naming);
its schedule, with whatever an operator changed, is kept."""

from django.db import migrations

ANTES, DESPUES = "messaging.purgar_mensajes", "messaging.purge_messages"


def crear(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(task=ANTES).update(task=DESPUES)


def borrar(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(task=DESPUES).update(task=ANTES)


class Migration(migrations.Migration):
    dependencies = [
        ("messaging", "0008_comandos_varados"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(crear, borrar)]
