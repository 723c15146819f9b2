"""What every context's Celery shim does around `command_log.execute`, and messaging's own
scheduled housekeeping. (The drain of commands decided together is together.py's task.)"""

import logging
import time

from celery import shared_task
from celery.exceptions import Retry

from . import command_log, retention
from .retries import DEPENDENCY_RECHECK_MAX_SECONDS, retrying_transient_errors

logger = logging.getLogger(__name__)


def run_command(task, command_id: str) -> None:
    def give_up() -> None:
        command_log.fail(command_id, {"code": "error_transitorio", "message": "El comando no pudo completarse tras varios reintentos.", "field": None})

    try:
        while True:
            try:
                retrying_transient_errors(task, lambda: command_log.execute(command_id), give_up,
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


@shared_task(name="messaging.purge_messages")
def purge_messages() -> dict[str, int]:
    deleted = retention.purge()
    logger.info("purged %(outbox)s published outbox rows and %(inbox)s inbox rows", deleted)
    return deleted


@shared_task(name="messaging.reenqueue_stranded_commands")
def reenqueue_stranded_commands() -> int:
    """Every minute (django-celery-beat): commands whose task the broker lost are enqueued again."""
    return command_log.reenqueue_stranded()
