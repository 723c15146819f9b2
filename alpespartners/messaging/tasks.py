"""What every context's Celery shim does around `command_log.execute`, and messaging's own
scheduled housekeeping."""

import logging
import time

from celery import shared_task
from django.db import InterfaceError, OperationalError

from alpespartners.seedwork.domain import TransientError

from . import command_log, retention

logger = logging.getLogger(__name__)

TRANSIENT_ERRORS = (OperationalError, InterfaceError, TransientError)


def run_command(task, command_id: str, handlers: dict) -> None:
    retries = task.request.retries
    while True:
        try:
            command_log.execute(command_id, handlers)
            return
        except TRANSIENT_ERRORS as error:
            if retries >= task.max_retries:
                logger.error("command %s gave up after %s retries: %s", command_id, retries, error)
                command_log.fail(command_id, {"code": "error_transitorio", "message": "El comando no pudo completarse tras varios reintentos.", "field": None})
                return
            countdown = min(2 ** retries * 0.2, 30)
            if not task.request.is_eager:
                raise task.retry(exc=error, countdown=countdown)
            # Eager mode (the embedded default) cannot re-queue a task: back off and retry here.
            logger.info("command %s: transient failure (%s); retrying in %.1f s", command_id, error, countdown)
            retries += 1
            time.sleep(countdown)
        except Exception:
            # A bug, not a business refusal: log the trace for operators, show the user a plain error.
            logger.exception("command %s failed unexpectedly", command_id)
            command_log.fail(command_id, {"code": "error_interno", "message": "Error interno al ejecutar el comando.", "field": None})
            return


@shared_task(name="messaging.purgar_mensajes")
def purgar_mensajes() -> dict[str, int]:
    deleted = retention.purge()
    logger.info("purged %(outbox)s published outbox rows and %(inbox)s inbox rows", deleted)
    return deleted
