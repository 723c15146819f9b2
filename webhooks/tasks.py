"""webhooks' Celery task: the daily purge of deliveries older than their retention."""

from celery import shared_task

from . import entregas


@shared_task(name="webhooks.purgar_entregas")
def purgar_entregas() -> int:
    return entregas.purgar()
