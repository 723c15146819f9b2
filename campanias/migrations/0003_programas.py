"""campanias' periodic tasks (alpespartners/schedules.py: created once, then the admin's). The names
are those beat gave them when they came from CELERY_BEAT_SCHEDULE, so existing rows are kept."""

from django.db import migrations

from alpespartners import schedules

FINALIZAR, VENCER = "finalizar-campanias-vencidas", "vencer-sagas-de-aprobacion"


def crear(apps, schema_editor):
    schedules.install(apps, FINALIZAR, "campanias.finalizar_vencidas",
                      "Finaliza las campañas que pasaron su fecha de fin.", crontab={"minute": "5"})
    schedules.install(apps, VENCER, "campanias.vencer_sagas",
                      "Cancela las campañas cuyo cobro no tuvo respuesta a tiempo.", every_seconds=60)


def borrar(apps, schema_editor):
    schedules.uninstall(apps, FINALIZAR)
    schedules.uninstall(apps, VENCER)


class Migration(migrations.Migration):
    dependencies = [
        ("campanias", "0002_presupuesto_consumido"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(crear, borrar)]
