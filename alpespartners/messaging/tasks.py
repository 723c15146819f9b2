"""What every context's Celery shim does around `command_log.execute`, and messaging's own
scheduled housekeeping."""

import logging
import time
from typing import Callable

from celery import shared_task
from celery.exceptions import Retry
from django.db import InterfaceError, OperationalError

from alpespartners.seedwork.domain import TransientError

from . import command_log, retention

logger = logging.getLogger(__name__)

TRANSIENT_ERRORS = (OperationalError, InterfaceError, TransientError)
DEPENDENCY_RECHECK_MAX_SECONDS = 2.0


def run_command(task, command_id: str, handlers: dict) -> None:
    def give_up() -> None:
        command_log.fail(command_id, {"code": "error_transitorio", "message": "El comando no pudo completarse tras varios reintentos.", "field": None})

    try:
        while True:
            try:
                retrying_transient_errors(task, lambda: command_log.execute(command_id, handlers), give_up,
                                          f"command {command_id}")
                return
            except command_log.DependenciesPending as waiting:
                # Soon, then less often; nothing is held meanwhile (no worker slot, transaction or lock).
                countdown = min(DEPENDENCY_RECHECK_MAX_SECONDS, max(0.02, waiting.waited_seconds / 10))
                if not task.request.is_eager:
                    task.apply_async((command_id,), countdown=countdown)
                    return
                time.sleep(countdown)  # eager mode (the embedded default): check again in place
    except Retry:
        raise  # Celery re-queues the task: not a failure
    except Exception:
        # A bug, not a business refusal: log the trace for operators, show the user a plain error.
        logger.exception("command %s failed unexpectedly", command_id)
        command_log.fail(command_id, {"code": "error_interno", "message": "Error interno al ejecutar el comando.", "field": None})


def retrying_transient_errors(task, work: Callable[[], None], give_up: Callable[[], None], what: str) -> None:
    """Run `work`; on a transient error retry it with exponential backoff (0.2 s, 0.4 s, … 30 s),
    through Celery on a worker, in place in eager mode; after `task.max_retries`, `give_up`."""
    retries = task.request.retries
    while True:
        try:
            work()
            return
        except TRANSIENT_ERRORS as error:
            if retries >= task.max_retries:
                logger.error("%s gave up after %s retries: %s", what, retries, error)
                give_up()
                return
            countdown = min(2 ** retries * 0.2, 30)
            if not task.request.is_eager:
                raise task.retry(exc=error, countdown=countdown)
            # Eager mode (the embedded default) cannot re-queue a task: back off and retry here.
            logger.info("%s: transient failure (%s); retrying in %.1f s", what, error, countdown)
            retries += 1
            time.sleep(countdown)


@shared_task(name="messaging.purgar_mensajes")
def purgar_mensajes() -> dict[str, int]:
    deleted = retention.purge()
    logger.info("purged %(outbox)s published outbox rows and %(inbox)s inbox rows", deleted)
    return deleted


@shared_task(name="messaging.reenviar_comandos_pendientes")
def reenviar_comandos_pendientes() -> int:
    """Every minute (django-celery-beat): commands whose task the broker lost are enqueued again."""
    return command_log.reenqueue_stranded()


@shared_task(name="messaging.decidir_juntos", bind=True, acks_late=True, max_retries=8)
def decidir_juntos(self, context: str, type_name: str) -> int:
    """Drain the waiting commands of a type decided together; come back for those still waiting
    for their events (soon, then less often)."""
    from . import together

    rounds = together.Round()

    def work() -> None:
        nonlocal rounds
        rounds = together.drain(context, type_name)

    retrying_transient_errors(self, work, lambda: None, f"drain of {context}.{type_name}")
    if rounds.waiting:
        countdown = min(DEPENDENCY_RECHECK_MAX_SECONDS, max(0.02, rounds.oldest_waiting_seconds / 10))
        if self.request.is_eager:
            time.sleep(countdown)
            return rounds.decided + decidir_juntos(context, type_name)
        decidir_juntos.apply_async((context, type_name), countdown=countdown)
    return rounds.decided
