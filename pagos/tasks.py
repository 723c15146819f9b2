from celery import shared_task

from alpespartners.messaging.tasks import run_command

from . import handlers


@shared_task(name="pagos.ejecutar_comando", bind=True, acks_late=True, max_retries=8)
def ejecutar_comando(self, command_id: str) -> None:
    run_command(self, command_id, handlers.COMMAND_HANDLERS)
