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
from typing import Callable

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from alpespartners import correlation
from alpespartners.seedwork.domain import Command, DomainError, from_payload
from alpespartners.seedwork.unit_of_work import CommandAlreadyExecuted, Origin

from . import contexts, dependencies
from .models import CommandLog, CommandStatus

logger = logging.getLogger(__name__)


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
            task = contexts.integration(context).COMMAND_TASK
            task.delay_on_commit(str(entry.id))
    except IntegrityError:
        # A concurrent request with the same key or command id won the insert.
        existing = _existing(user, idempotency_key, command_id)
        if existing is None:
            raise
        return _replay(existing, request_fingerprint), False
    return entry, True


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
        contexts.integration(entry.context).COMMAND_TASK.delay_on_commit(str(entry.id))
        return entry
    return None


def execute(command_id: str, handlers: dict[type, Callable]) -> None:
    """Run a logged command once. Domain errors mark it FALLIDO; other errors propagate
    (the task retries the transient ones) and leave it PENDIENTE."""
    entry = CommandLog.objects.filter(id=command_id).first()
    if entry is None or entry.status != CommandStatus.PENDIENTE:
        return
    with correlation.bound(entry.correlation_id):
        _execute(entry, handlers)


def _execute(entry: CommandLog, handlers: dict[type, Callable]) -> None:
    module = contexts.integration(entry.context)
    try:
        command = from_payload(module.COMMANDS[entry.type], entry.payload)
        _wait_for_dependencies(entry, command)
        if (decide_together := getattr(module, "DECIDED_TOGETHER", {}).get(type(command))) is not None:
            _execute_together(entry, decide_together)
            return
        CommandLog.objects.filter(id=entry.id).update(attempts=entry.attempts + 1)
        handler = handlers[type(command)]
        uow = module.unit_of_work(command_id=entry.id, correlation_id=entry.correlation_id)
        started = time.monotonic()
        handler(command, uow)
        logger.info("command %s %s executed in %.0f ms", entry.type, entry.id, (time.monotonic() - started) * 1000,
                    extra={"command_type": entry.type, "command_id": str(entry.id)})
    except CommandAlreadyExecuted:
        logger.info("command %s %s already executed by another delivery", entry.type, entry.id)
    except DomainError as error:
        fail(entry.id, {"code": error.code, "message": error.message, "field": error.field})
        logger.info("command %s %s refused: %s", entry.type, entry.id, error.message)


def _execute_together(entry: CommandLog, decide_together: Callable) -> None:
    """Decide this command with every other of its type already waiting (up to
    COMMANDS_DECIDED_TOGETHER_MAX), in one transaction: a single conversion then costs about what
    one item of a batch costs. Rows are claimed with SKIP LOCKED, so two workers never decide the
    same command; one whose events have not arrived is left to its own task (which waits)."""
    module = contexts.integration(entry.context)
    started = time.monotonic()
    others: list[CommandLog] = []
    try:
        entries = _decide_together(entry, decide_together, module, others)
    except Exception:
        # Rolled back, locks released: the others' own tasks may have returned seeing them claimed here.
        for item in others:
            module.COMMAND_TASK.delay(str(item.id))
        raise
    if entries:
        logger.info("command %s %s decided with %s others of its type in %.0f ms", entry.type, entry.id,
                    len(entries) - 1, (time.monotonic() - started) * 1000,
                    extra={"command_type": entry.type, "command_id": str(entry.id)})


def _decide_together(entry: CommandLog, decide_together: Callable, module, others: list[CommandLog]) -> list[CommandLog]:
    """The transaction of `_execute_together`; fills `others` with what it claimed, returns what it decided."""
    with transaction.atomic():
        pending = CommandLog.objects.select_for_update(skip_locked=True).filter(status=CommandStatus.PENDIENTE)
        if not list(pending.filter(id=entry.id).values_list("id", flat=True)):
            return []  # decided, or being decided, with others by another task
        others.extend(pending.filter(context=entry.context, type=entry.type).exclude(id=entry.id)
                      .order_by("created_at")[:settings.COMMANDS_DECIDED_TOGETHER_MAX - 1])
        entries = [entry, *others]
        commands = {item.id: from_payload(module.COMMANDS[item.type], item.payload) for item in entries}
        waiting = dependencies.pending_among(entry.context, {
            item.id: (item.outbox_horizon, dependencies.aggregates(entry.context, commands[item.id]))
            for item in others})
        entries = [item for item in entries if item.id not in waiting]
        uow = module.unit_of_work(correlation_id=entry.correlation_id)
        outcomes = decide_together([(commands[item.id], Origin(item.correlation_id, item.id)) for item in entries], uow)
        now = timezone.now()
        for item, outcome in zip(entries, outcomes):
            item.status = CommandStatus.FALLIDO if outcome.error else CommandStatus.COMPLETADO
            item.resource_id = outcome.resource_id or item.resource_id
            item.result, item.error, item.completed_at = outcome.result, outcome.error, now
            item.attempts += 1
        CommandLog.objects.bulk_update(entries, ["status", "resource_id", "result", "error", "completed_at", "attempts"])
    return entries


def _wait_for_dependencies(entry: CommandLog, command: Command) -> None:
    """Raise DependenciesPending while the context lags behind what the sender could read;
    dependencies.DependenciaPendiente (a refusal) once it has waited too long."""
    aggregate_ids = dependencies.aggregates(entry.context, command)
    if not dependencies.pending(entry, aggregate_ids):
        return
    waited = (timezone.now() - entry.created_at).total_seconds()
    if waited < settings.COMMAND_DEPENDENCY_TIMEOUT_SECONDS:
        raise DependenciesPending(waited)
    raise dependencies.DependenciaPendiente(
        f"Este contexto no recibió a tiempo ({settings.COMMAND_DEPENDENCY_TIMEOUT_SECONDS} s) eventos anteriores "
        "al comando sobre " + ", ".join(sorted(str(id) for id in aggregate_ids)) + "; puede reenviarse desde el admin."
    )


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
