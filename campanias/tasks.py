from celery import shared_task
from django.utils import timezone

from alpespartners.messaging.tasks import run_command

from . import bootstrap, handlers


@shared_task(name="campanias.ejecutar_comando", bind=True, acks_late=True, max_retries=8)
def ejecutar_comando(self, command_id: str) -> None:
    run_command(self, command_id)


@shared_task(name="campanias.vencer_sagas")
def vencer_sagas() -> int:
    return handlers.vencer_sagas(timezone.now(), bootstrap.unit_of_work)


@shared_task(name="campanias.finalizar_vencidas")
def finalizar_vencidas() -> int:
    return handlers.finalizar_vencidas(timezone.localdate())
