from celery import shared_task

from alpespartners.messaging.tasks import run_command


@shared_task(name="cliente.ejecutar_comando", bind=True, acks_late=True, max_retries=8)
def ejecutar_comando(self, command_id: str) -> None:
    run_command(self, command_id)
