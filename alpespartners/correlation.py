"""One correlation id follows a request through API → command → task → outbox → Pulsar →
consumer → next command, and every log line on the way carries it (`correlation_id` in the JSON).

The id lives in a context variable: the middleware sets it per request (from `X-Correlation-ID`
or a new one); the command log stores it with the command and sets it again when a worker runs the
command; every Celery task enqueued meanwhile carries it in a message header and binds it while it
runs; the outbox writes it into every event's envelope, and consumers set it from there.
"""

from __future__ import annotations

import contextlib
import logging
import uuid
from contextvars import ContextVar

from celery import signals

HEADER = "X-Correlation-ID"
TASK_HEADER = "alpespartners_correlation_id"  # not "correlation_id": Celery's request already has one (the task id)

_current: ContextVar[str | None] = ContextVar("correlation_id", default=None)

logger = logging.getLogger("alpespartners.requests")


def current() -> str | None:
    return _current.get()


@contextlib.contextmanager
def bound(correlation_id) -> None:
    """Log lines (and tasks enqueued) inside the block carry `correlation_id`."""
    token = _current.set(str(correlation_id) if correlation_id else None)
    try:
        yield
    finally:
        _current.reset(token)


def from_header(value: str | None) -> str:
    """The caller's id when it is a UUID (so it can be stored with the command), else a new one."""
    try:
        return str(uuid.UUID(value or ""))
    except ValueError:
        return str(uuid.uuid4())


class CorrelationIdMiddleware:
    """Binds the request's correlation id, returns it in `X-Correlation-ID` and logs one line per request."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        with bound(from_header(request.headers.get(HEADER))):
            response = self.get_response(request)
            response[HEADER] = current()
            logger.info("%s %s %s", request.method, request.path, response.status_code,
                        extra={"method": request.method, "path": request.path, "status": response.status_code})
            return response


def install_log_record_factory() -> None:
    """Every log record gets `correlation_id` (None outside a request, command or message), for
    every handler, test capture included."""
    default_factory = logging.getLogRecordFactory()

    def record_with_correlation_id(*args, **kwargs) -> logging.LogRecord:
        record = default_factory(*args, **kwargs)
        record.correlation_id = _current.get()
        return record

    logging.setLogRecordFactory(record_with_correlation_id)


@signals.before_task_publish.connect
def _carry_to_task(headers=None, **kwargs):
    if headers is not None and current():
        headers.setdefault(TASK_HEADER, current())


@signals.task_prerun.connect
def _bind_in_task(task=None, **kwargs):
    # In eager mode the task runs inside the caller and has no header: it keeps the caller's id.
    task.request.correlation_token = _current.set(getattr(task.request, TASK_HEADER, None) or current())


@signals.task_postrun.connect
def _unbind_after_task(task=None, **kwargs):
    if (token := getattr(task.request, "correlation_token", None)) is not None:
        _current.reset(token)
