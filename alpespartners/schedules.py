"""Default periodic tasks, created once by each app's data migration.

They live only in django-celery-beat's tables. Entries of CELERY_BEAT_SCHEDULE would be rewritten
by beat at every start, undoing an operator's edit in the admin (another hour, disabled for a
holiday); a row created here is never touched again. Used from migrations: keep the signature."""

from django.conf import settings


def install(apps, name: str, task: str, description: str, *, crontab: dict | None = None,
            every_seconds: int | None = None) -> None:
    """Create the periodic task `name` unless it exists (in whatever state an operator left it)."""
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    if PeriodicTask.objects.filter(name=name).exists():
        return
    if crontab is not None:
        CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
        fields = {"minute": "*", "hour": "*", "day_of_week": "*", "day_of_month": "*", "month_of_year": "*", **crontab}
        schedule = {"crontab": CrontabSchedule.objects.get_or_create(timezone=settings.TIME_ZONE, **fields)[0]}
    else:
        IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
        schedule = {"interval": IntervalSchedule.objects.get_or_create(every=every_seconds, period="seconds")[0]}
    PeriodicTask.objects.create(name=name, task=task, description=description, **schedule)


def uninstall(apps, name: str) -> None:
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=name).delete()
