"""Billing of clicks and impressions every few seconds (alpespartners/schedules.py: created once,
then the admin's)."""

from django.db import migrations

from alpespartners import schedules

NOMBRE = "pagos: facturar clics e impresiones"


def crear(apps, schema_editor):
    schedules.install(apps, NOMBRE, "pagos.facturar_interacciones",
                      "Convierte los clics e impresiones facturables en comisiones CLICK e IMPRESION, por lotes.",
                      every_seconds=5)


def borrar(apps, schema_editor):
    schedules.uninstall(apps, NOMBRE)


class Migration(migrations.Migration):
    dependencies = [
        ("pagos", "0010_clicks_facturados"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(crear, borrar)]
