"""The daily payout cycle's schedule (alpespartners/schedules.py: created once, then the admin's)."""

from django.db import migrations

from alpespartners import schedules

NOMBRE = "pagos: ciclo de pagos diario"


def crear(apps, schema_editor):
    schedules.install(apps, NOMBRE, "pagos.ejecutar_ciclo_programado",
                      "Paga a cada socio sus comisiones pagables hasta el día de hoy (fecha de corte).",
                      crontab={"minute": "0", "hour": "2"})


def borrar(apps, schema_editor):
    schedules.uninstall(apps, NOMBRE)


class Migration(migrations.Migration):
    dependencies = [
        ("pagos", "0003_ciclos_payouts"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(crear, borrar)]
