"""The daily payout cycle's schedule, created once. It lives in django-celery-beat's tables (not
in CELERY_BEAT_SCHEDULE, which beat rewrites at every start), so an operator's edit in the admin
— another hour, disabled for a holiday — stays."""

from django.conf import settings
from django.db import migrations

NOMBRE = "pagos: ciclo de pagos diario"


def crear(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    horario, _ = CrontabSchedule.objects.get_or_create(
        minute="0", hour="2", day_of_week="*", day_of_month="*", month_of_year="*", timezone=settings.TIME_ZONE,
    )
    PeriodicTask.objects.get_or_create(name=NOMBRE, defaults={
        "task": "pagos.ejecutar_ciclo_programado", "crontab": horario,
        "description": "Paga a cada socio sus comisiones pagables hasta el día de hoy (fecha de corte).",
    })


def borrar(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=NOMBRE).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("pagos", "0003_ciclos_payouts"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(crear, borrar)]
