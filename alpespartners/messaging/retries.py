"""Transient errors and retrying them: shared by the Celery tasks, the consumers and the drains of
commands decided together, so it imports nothing of messaging."""

import logging
import time
from typing import Callable

from django.db import InterfaceError, OperationalError

from alpespartners.seedwork.domain import TransientError

logger = logging.getLogger(__name__)

TRANSIENT_ERRORS = (OperationalError, InterfaceError, TransientError)
DEPENDENCY_RECHECK_MAX_SECONDS = 2.0


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
