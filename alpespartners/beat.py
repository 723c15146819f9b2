"""The beat scheduler: django-celery-beat's, safe to stop at any moment.

Beat saves its entries' last run times from its SIGTERM handler. With psycopg 3, a signal that
arrives while the main loop is inside a query runs the handler in the middle of it: the handler's
own query then waits for the connection the interrupted query holds, forever, and beat never
exits (found by tests/e2e/test_restarts.py). Stopped mid-query, beat skips that last save: the
tasks that ran since the previous save may run once more at the next start, which every periodic
task here allows (each is a sweep or an idempotent cycle)."""

import logging

from django.db import connection
from django_celery_beat.schedulers import DatabaseScheduler
from psycopg.pq import TransactionStatus

logger = logging.getLogger(__name__)


class Scheduler(DatabaseScheduler):
    def sync(self):
        info = getattr(connection.connection, "info", None)  # psycopg's; SQLite (the embedded default) has none
        if info is not None and info.transaction_status == TransactionStatus.ACTIVE:
            logger.warning("beat stopped in the middle of a query: last run times not saved")
            return
        super().sync()
