"""The command log: every command is recorded before it runs, and its outcome after.

API views and the `comandos.<contexto>` consumer call `submit`; the context's Celery task
calls `execute`, which runs the plain handler inside the context's Unit of Work.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
import uuid
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, InterfaceError, OperationalError, transaction
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerUnavailable
from redis.exceptions import RedisError

from alpespartners import correlation
from alpespartners.seedwork.domain import Command, DomainError, from_payload

from . import contexts, dependencies, together
from .models import CommandLog, CommandStatus

logger = logging.getLogger(__name__)

# What an enqueue after commit can meet while Redis or PostgreSQL restarts.
ENQUEUE_ERRORS = (BrokerUnavailable, RedisError, OSError, OperationalError, InterfaceError)


class CommandAlreadyExecuted(Exception):
    """The command log entry is no longer PENDIENTE: a redelivered task must not apply it twice."""


class IdempotencyKeyReused(Exception):
    """The same Idempotency-Key came with a different request."""


class DependenciesPending(Exception):
    """Its context has not yet applied events the command depends on: run it again later."""

    def __init__(self, waited_seconds: float):
        super().__init__(f"waiting for its context's events for {waited_seconds:.2f} s")
        self.waited_seconds = waited_seconds


def fingerprint(method: str, path: str, body: object) -> str:
    canonical = json.dumps([method, path, body], sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def submit(
    context: str,
    command: Command,
    *,
    user=None,
    idempotency_key: str | None = None,
    request_fingerprint: str = "",
    source: str = "api",
    command_id: uuid.UUID | None = None,
    resource_id: uuid.UUID | None = None,
    correlation_id: uuid.UUID | None = None,
    redrive_of: CommandLog | None = None,
) -> tuple[CommandLog, bool]:
    """Log the command and enqueue its task after commit. Returns (entry, created)."""
    if existing := _existing(user, idempotency_key, command_id):
        return _replay(existing, request_fingerprint), False
    try:
        with transaction.atomic():
            entry = CommandLog.objects.create(
                id=command_id or uuid.uuid4(),
                context=context,
                type=type(command).__name__,
                payload=command.as_payload(),
                resource_id=resource_id,
                idempotency_key=idempotency_key or None,
                request_fingerprint=request_fingerprint,
                issued_by=user if user is not None and user.is_authenticated else None,
                source=source,
                correlation_id=correlation_id or uuid.uuid4(),
                redrive_of=redrive_of,
                outbox_horizon=dependencies.horizon() if dependencies.aggregates(context, command) else None,
            )
            _enqueue_on_commit(context, command, entry.id)
    except IntegrityError:
        # A concurrent request with the same key or command id won the insert.
        existing = _existing(user, idempotency_key, command_id)
        if existing is None:
            raise
        return _replay(existing, request_fingerprint), False
    return entry, True


def _enqueue_on_commit(context: str, command: Command, command_id: uuid.UUID) -> None:
    transaction.on_commit(lambda: _enqueue(context, type(command).__name__, command_id))


def _enqueue(context: str, type_name: str, command_id: uuid.UUID) -> None:
    """Its context's task; a command decided together with others of its type asks for a drain of
    its type instead (together.py). The command is committed by now: if the broker (or, for a drain
    request, the database) is away, it waits in the log for the sweep, and the client still gets its 202."""
    try:
        if together.decided_together(context, type_name) is not None:
            together.request_drain(context, type_name)
        else:
            contexts.command_task(context).delay(str(command_id))
    except ENQUEUE_ERRORS as error:
        logger.warning("command %s %s not enqueued (%s: %s); the sweep of stranded commands will", type_name,
                       command_id, type(error).__name__, error)


def _existing(user, idempotency_key: str | None, command_id: uuid.UUID | None) -> CommandLog | None:
    """The entry this submission repeats: same user and key, or (from a topic) same command id."""
    if idempotency_key:
        return CommandLog.objects.filter(issued_by=user, idempotency_key=idempotency_key).first()
    if command_id:
        return CommandLog.objects.filter(id=command_id).first()
    return None


def _replay(existing: CommandLog, request_fingerprint: str) -> CommandLog:
    if existing.request_fingerprint != request_fingerprint:
        raise IdempotencyKeyReused(existing.idempotency_key)
    return existing


def redrive(entry: CommandLog, user) -> CommandLog | None:
    """An operator's second chance for a command: a FALLIDO one is issued again as a new command
    (same payload and correlation id, pointing at the old one, which keeps its failure); a PENDIENTE
    one whose task was lost is enqueued again (it runs once whatever happens). None if COMPLETADO."""
    if entry.status == CommandStatus.FALLIDO:
        command = from_payload(contexts.integration(entry.context).COMMANDS[entry.type], entry.payload)
        new_entry, _ = submit(entry.context, command, user=user, source="admin", resource_id=entry.resource_id,
                              correlation_id=entry.correlation_id, redrive_of=entry)
        return new_entry
    if entry.status == CommandStatus.PENDIENTE:
        contexts.command_task(entry.context).delay_on_commit(str(entry.id))
        return entry
    return None


def reenqueue_stranded() -> int:
    """Commands PENDIENTE for longer than COMMAND_SWEEP_AFTER_SECONDS whose task may be lost (a broker
    that forgot its queue, a web process killed between commit and enqueue): enqueue them again,
    oldest first, at most COMMAND_SWEEP_MAX per run. Safe if the task was only slow: `execute` runs a
    command once, and a drain claims each waiting command once. Each is enqueued again at most once per
    bound, so a backlog longer than the bound costs one extra task per command, not one per run."""
    now = timezone.now()
    cutoff = now - timedelta(seconds=settings.COMMAND_SWEEP_AFTER_SECONDS)
    with transaction.atomic():
        stranded = list(CommandLog.objects.filter(status=CommandStatus.PENDIENTE, created_at__lt=cutoff)
                        .exclude(swept_at__gte=cutoff).order_by("created_at")
                        .values_list("id", "context", "type")[:settings.COMMAND_SWEEP_MAX])
        CommandLog.objects.filter(id__in=[command_id for command_id, _, _ in stranded]).update(swept_at=now)
    drains = set()
    for command_id, context, type_name in stranded:
        if together.decided_together(context, type_name) is not None:
            drains.add((context, type_name))  # one drain decides all of them
        else:
            contexts.command_task(context).delay(str(command_id))
    for context, type_name in drains:
        together.enqueue_drain(context, type_name)
    if stranded:
        logger.warning("re-enqueued %s commands PENDIENTE for over %s s", len(stranded),
                       settings.COMMAND_SWEEP_AFTER_SECONDS, extra={"reenqueued": len(stranded)})
    return len(stranded)


def execute(command_id: str) -> None:
    """Run a logged command once. Domain errors mark it FALLIDO; other errors propagate
    (the task retries the transient ones) and leave it PENDIENTE."""
    entry = CommandLog.objects.filter(id=command_id).first()
    if entry is None or entry.status != CommandStatus.PENDIENTE:
        return
    with correlation.bound(entry.correlation_id):
        _execute(entry)


def _execute(entry: CommandLog) -> None:
    wiring = contexts.wiring(entry.context)
    try:
        command = from_payload(contexts.integration(entry.context).COMMANDS[entry.type], entry.payload)
        _wait_for_dependencies(entry, command)
        if together.decided_together(entry.context, entry.type) is not None:
            together.decide_pending(entry.context, entry.type, own=entry)  # an operator re-enqueued it, say
            return
        CommandLog.objects.filter(id=entry.id).update(attempts=entry.attempts + 1)
        handler = wiring.COMMAND_HANDLERS[type(command)]
        uow = wiring.unit_of_work(command_id=entry.id, correlation_id=entry.correlation_id)
        started = time.monotonic()
        handler(command, uow)
        logger.info("command %s %s executed in %.0f ms", entry.type, entry.id, (time.monotonic() - started) * 1000,
                    extra={"command_type": entry.type, "command_id": str(entry.id)})
    except CommandAlreadyExecuted:
        logger.info("command %s %s already executed by another delivery", entry.type, entry.id)
    except DomainError as error:
        fail(entry.id, {"code": error.code, "message": error.message, "field": error.field})
        logger.info("command %s %s refused: %s", entry.type, entry.id, error.message)


def _wait_for_dependencies(entry: CommandLog, command: Command) -> None:
    """Raise DependenciesPending while the context lags behind what the sender could read;
    dependencies.DependenciaPendiente (a refusal) once it has waited too long."""
    aggregate_ids = dependencies.aggregates(entry.context, command)
    if not dependencies.pending(entry, aggregate_ids):
        return
    waited = (timezone.now() - entry.created_at).total_seconds()
    if waited < settings.COMMAND_DEPENDENCY_TIMEOUT_SECONDS:
        raise DependenciesPending(waited)
    raise dependencies.DependenciaPendiente(dependencies.timeout_message(aggregate_ids))


def complete(command_id: uuid.UUID, resource_id: uuid.UUID | None, result: dict | None) -> bool:
    """Mark COMPLETADO inside the handler's transaction; False if it already left PENDIENTE."""
    return bool(
        CommandLog.objects.filter(id=command_id, status=CommandStatus.PENDIENTE).update(
            status=CommandStatus.COMPLETADO, resource_id=resource_id, result=result, completed_at=timezone.now()
        )
    )


def fail(command_id: uuid.UUID, error: dict) -> None:
    CommandLog.objects.filter(id=command_id, status=CommandStatus.PENDIENTE).update(
        status=CommandStatus.FALLIDO, error=error, completed_at=timezone.now()
    )


def wait_for(entry: CommandLog, seconds: float) -> CommandLog:
    """Poll until the command leaves PENDIENTE or `seconds` pass (`Prefer: wait=N`)."""
    deadline = time.monotonic() + seconds
    entry.refresh_from_db()
    while entry.status == CommandStatus.PENDIENTE and time.monotonic() < deadline:
        time.sleep(0.05)
        entry.refresh_from_db()
    return entry
