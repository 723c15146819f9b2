"""Single commands decided together (a context's DECIDED_TOGETHER: pagos' RegistrarConversion).

One postback per sale is how conversions arrive; deciding each in its own task and transaction cost
~7 ms of worker CPU apiece, most of it Celery's per-task overhead. So such a command enqueues no
task of its own. After its commit the web asks for a *drain* of its type: a flag row
(`DrainRequest`) inserted unless one is already there, and only the request that inserts it enqueues
the drain task, with a short countdown (COMMANDS_DECIDED_TOGETHER_LINGER_SECONDS) so that the
commands arriving meanwhile join it. The drain deletes the flag, then decides in one transaction
every waiting command of the type (claimed with SKIP LOCKED, up to COMMANDS_DECIDED_TOGETHER_MAX;
again while a round is full). No command is left behind: one committed before its request found
the flag present is claimed by the round that follows the flag's deletion; one whose request came
after the deletion inserted the flag again and enqueued the next drain. A flag older than DRAIN_REQUEST_STALE_SECONDS (its drain lost) counts as
absent. Commands whose events have not arrived (messaging/dependencies.py) are left waiting and
the drain comes back for them with a backoff; past COMMAND_DEPENDENCY_TIMEOUT_SECONDS they fail as
`dependencia_pendiente`.
"""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from alpespartners.seedwork.domain import from_payload

from . import contexts, dependencies
from .models import CommandLog, CommandStatus, DrainRequest
from .retries import DEPENDENCY_RECHECK_MAX_SECONDS, TRANSIENT_ERRORS, retrying_transient_errors

logger = logging.getLogger(__name__)

DRAIN_REQUEST_STALE_SECONDS = 30


# The contract of a DECIDED_TOGETHER handler: handler([(command, Origin)], uow) -> [Outcome].
@dataclass(frozen=True)
class Origin:
    """The command an event comes from, when one Unit of Work decides several commands."""

    correlation_id: uuid.UUID
    command_id: uuid.UUID


@dataclass(frozen=True)
class Outcome:
    """What became of one of several commands decided together: COMPLETADO with a resource and a
    result, or FALLIDO with an error {code, message, field}."""

    resource_id: uuid.UUID | None = None
    result: dict | None = None
    error: dict | None = None


def decided_together(context: str, type_name: str):
    """The handler deciding commands of `type_name` together, or None."""
    command_class = contexts.integration(context).COMMANDS.get(type_name)
    return getattr(contexts.wiring(context), "DECIDED_TOGETHER", {}).get(command_class)


def request_drain(context: str, type_name: str) -> bool:
    """After a command's commit: ask for a drain of its type. True if this call enqueued one."""
    table = connection.ops.quote_name(DrainRequest._meta.db_table)
    now = timezone.now()
    as_value = DrainRequest._meta.get_field("requested_at").get_db_prep_value
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (key, requested_at) VALUES (%s, %s) ON CONFLICT (key) DO UPDATE "
            f"SET requested_at = EXCLUDED.requested_at WHERE {table}.requested_at < %s RETURNING key",
            [_key(context, type_name), as_value(now, connection),
             as_value(now - timedelta(seconds=DRAIN_REQUEST_STALE_SECONDS), connection)],
        )
        inserted = cursor.fetchone() is not None
    if inserted:
        enqueue_drain(context, type_name)
    return inserted


def enqueue_drain(context: str, type_name: str) -> None:
    # The linger: what arrives meanwhile finds the flag and joins this drain's round.
    decidir_juntos.apply_async((context, type_name), countdown=settings.COMMANDS_DECIDED_TOGETHER_LINGER_SECONDS)


@shared_task(name="messaging.decidir_juntos", bind=True, acks_late=True, max_retries=8)
def decidir_juntos(self, context: str, type_name: str) -> int:
    """Drain the waiting commands of a type decided together; come back for those still waiting
    for their events (soon, then less often)."""
    rounds = Round()

    def work() -> None:
        nonlocal rounds
        rounds = drain(context, type_name)

    retrying_transient_errors(self, work, lambda: None, f"drain of {context}.{type_name}")
    if rounds.waiting:
        countdown = min(DEPENDENCY_RECHECK_MAX_SECONDS, max(0.02, rounds.oldest_waiting_seconds / 10))
        if self.request.is_eager:
            time.sleep(countdown)
            return rounds.decided + decidir_juntos(context, type_name)
        decidir_juntos.apply_async((context, type_name), countdown=countdown)
    return rounds.decided


@dataclass
class Round:
    decided: int = 0
    waiting: int = 0
    oldest_waiting_seconds: float = 0.0


def drain(context: str, type_name: str) -> Round:
    """Decide every waiting command of the type: one round, or more while a round is full. A command
    committed after the flag is deleted asks for the next drain."""
    total = Round()
    while True:
        DrainRequest.objects.filter(key=_key(context, type_name)).delete()
        this_round = decide_pending(context, type_name)
        total.decided += this_round.decided
        total.waiting, total.oldest_waiting_seconds = this_round.waiting, this_round.oldest_waiting_seconds
        if this_round.decided + this_round.waiting < settings.COMMANDS_DECIDED_TOGETHER_MAX:
            return total


def decide_pending(context: str, type_name: str, own: CommandLog | None = None) -> Round:
    """One transaction: claim the waiting commands of the type (with `own` first, when a command's own
    task runs it; if `own` is already claimed or decided, nothing), decide those whose events are
    here, fail those that waited too long for theirs."""
    started = time.monotonic()
    module = contexts.integration(context)
    decide = decided_together(context, type_name)
    claimed: list[CommandLog] = []
    try:
        with transaction.atomic():
            result = _decide_pending(context, type_name, own, module, decide, claimed)
    except TRANSIENT_ERRORS:
        raise  # rolled back: the drain's task retries, and claims them again
    except Exception:
        # A bug, not a refusal (those are answers): say so on each command claimed, as a single
        # command's task does, instead of retrying it for ever.
        logger.exception("%s %s: %s commands could not be decided together", context, type_name, len(claimed))
        CommandLog.objects.filter(id__in=[item.id for item in claimed], status=CommandStatus.PENDIENTE).update(
            status=CommandStatus.FALLIDO, completed_at=timezone.now(),
            error={"code": "error_interno", "message": "Error interno al ejecutar el comando.", "field": None})
        return Round(decided=len(claimed))
    if result.decided:
        logger.info("%s %s: %s commands decided together in %.0f ms", context, type_name, result.decided,
                    (time.monotonic() - started) * 1000, extra={"command_type": type_name})
    return result


def _decide_pending(context, type_name, own, module, decide, claimed: list[CommandLog]) -> Round:
    pending = CommandLog.objects.select_for_update(skip_locked=True).filter(status=CommandStatus.PENDIENTE)
    if own is not None:
        if not list(pending.filter(id=own.id).values_list("id", flat=True)):
            return Round()  # decided, or being decided, by another task or drain
        claimed.append(own)
    others = pending.filter(context=context, type=type_name).order_by("created_at")
    if own is not None:
        others = others.exclude(id=own.id)
    claimed.extend(others[:settings.COMMANDS_DECIDED_TOGETHER_MAX - len(claimed)])
    commands = {item.id: from_payload(module.COMMANDS[item.type], item.payload) for item in claimed}
    waiting = dependencies.pending_among(context, {
        item.id: (item.outbox_horizon, dependencies.aggregates(context, commands[item.id])) for item in claimed})
    now = timezone.now()
    ready = [item for item in claimed if item.id not in waiting]
    outcomes = decide([(commands[item.id], Origin(item.correlation_id, item.id)) for item in ready],
                      contexts.wiring(context).unit_of_work(correlation_id=ready[0].correlation_id)) if ready else []
    for item, outcome in zip(ready, outcomes):
        item.status = CommandStatus.FALLIDO if outcome.error else CommandStatus.COMPLETADO
        item.resource_id = outcome.resource_id or item.resource_id
        item.result, item.error = outcome.result, outcome.error
    result, answered = Round(), list(ready)
    for item in claimed:
        if item.id not in waiting:
            continue
        waited = (now - item.created_at).total_seconds()
        if waited >= settings.COMMAND_DEPENDENCY_TIMEOUT_SECONDS:
            item.status, item.error = CommandStatus.FALLIDO, dependencies.timeout_error(
                dependencies.aggregates(context, commands[item.id]))
            answered.append(item)
        else:
            result.waiting += 1
            result.oldest_waiting_seconds = max(result.oldest_waiting_seconds, waited)
    for item in answered:
        item.completed_at, item.attempts = now, item.attempts + 1
    CommandLog.objects.bulk_update(answered, ["status", "resource_id", "result", "error", "completed_at", "attempts"])
    result.decided = len(answered)
    return result


def _key(context: str, type_name: str) -> str:
    return f"{context}.{type_name}"
