"""The sweep of payouts left unsent (alpespartners/schedules.py: created once, then the admin's)."""

from django.db import migrations

from alpespartners import schedules

NOMBRE = "pagos: reenviar payouts sin enviar"


def crear(apps, schema_editor):
    schedules.install(apps, NOMBRE, "pagos.reenviar_payouts_sin_enviar",
                      "Envía los payouts que siguen CALCULADO tras unos minutos (su envío se perdió).",
                      every_seconds=300)


def borrar(apps, schema_editor):
    schedules.uninstall(apps, NOMBRE)


class Migration(migrations.Migration):
    dependencies = [
        ("pagos", "0006_payouts_reclaman_al_enviar"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(crear, borrar)]
